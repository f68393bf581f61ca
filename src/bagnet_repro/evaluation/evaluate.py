"""Accuracy of a trained model on validation, test and the scrambled test set, with per-image predictions."""

from __future__ import annotations

import json

import torch

from ..compute.device import resolve_device
from ..compute.tracking import evaluation_numerics, recorded_job
from ..data.inventory import read_records
from ..data.loading import load_split, manifest_classes
from ..errors import UserError
from ..files.atomic import write_table_atomic, write_text_atomic
from ..files.code_digest import code_sha256
from ..models.trained import load_trained
from .inference import autocast_dtype, predict
from .scramble import scramble_batch

PREDICTION_COLUMNS = ("split", "path", "sha256", "label", "prediction", "correct")


@recorded_job("evaluate", result="metrics_path")  # time, memory, energy and attempts beside the metrics
def evaluate(
    checkpoint: str,
    manifest_path: str,
    metrics_path: str,
    predictions_path: str,
    scramble_grid: int,
    scramble_seed: int = 0,
    batch_size: int = 64,
    device: str = "auto",
    sweep_grids: tuple[int, ...] = (),
    precision: str = "fp32",
) -> dict:
    """Write accuracies (JSON) and one prediction row per image and condition (TSV).

    Conditions: ``val``, ``test``, ``scrambled_test`` (Table 1's ``scramble_grid`` x ``scramble_grid`` pieces)
    and ``scrambled_g<g>`` for every grid of the scrambling sweep (g x g pieces; each image's permutation is the
    same for every model). ``precision`` is the forward passes' autocast dtype (fp32: none), recorded in the numerics.
    """
    dev = resolve_device(device)
    dtype = autocast_dtype(precision, dev)
    model, saved = load_trained(checkpoint, dev)
    size = saved["image_size"]
    for pieces in (scramble_grid, *sweep_grids):  # pieces per side
        if size % pieces:
            raise UserError(
                f"scramble grid {pieces} does not divide the image size {size} "
                "(evaluate.scramble_grid / evaluate.sweep_grids)"
            )
    manifest = read_records(manifest_path)
    classes = saved["classes"]  # the trained model's record names its outputs
    if manifest_classes(manifest) != classes:
        raise UserError(
            f"{checkpoint} was trained on the classes {', '.join(classes)}; {manifest_path} has "
            f"{', '.join(manifest_classes(manifest))}"
        )
    rows, metrics = (
        [],
        {
            "model": saved["model"],
            "seed": saved["settings"].get("seed"),
            "best_epoch": saved["epoch"],
            "image_size": size,
            "scramble_grid": scramble_grid,
            "sweep_grids": list(sweep_grids),
            "scramble_seed": scramble_seed,
            "code_sha256": code_sha256(),
            "numerics": evaluation_numerics(dev, checkpoint, precision, dtype),
        },
    )
    for split in ("val", "test"):
        data = load_split(manifest, split, size)
        conditions: dict[str, int | None] = {split: None}  # condition -> scramble grid (None: the intact images)
        if split == "test":
            conditions["scrambled_test"] = scramble_grid
            conditions.update((f"scrambled_g{grid}", grid) for grid in sweep_grids)
        # the Table-1 grid is usually in the sweep too: predict it once
        predictions_by_grid: dict[int | None, torch.Tensor] = {}
        for condition, grid in conditions.items():
            if grid not in predictions_by_grid:
                images = data.images if grid is None else scramble_batch(data.images, data.keys, scramble_seed, grid)
                predictions_by_grid[grid] = predict(
                    model, images, dev, batch_size, desc=condition, autocast_dtype=dtype
                ).argmax(1)
            predicted = predictions_by_grid[grid]
            correct = predicted == data.labels
            metrics[f"{condition}_acc"] = correct.float().mean().item()
            metrics[f"n_{condition}"] = len(correct)
            rows += [
                dict(zip(PREDICTION_COLUMNS, (condition, p, k, classes[t], classes[q], int(c)), strict=True))
                for p, k, t, q, c in zip(
                    data.paths, data.keys, data.labels.tolist(), predicted.tolist(), correct.tolist(), strict=True
                )
            ]
    write_table_atomic(predictions_path, PREDICTION_COLUMNS, rows)
    write_text_atomic(metrics_path, json.dumps(metrics, indent=2) + "\n")
    return metrics
