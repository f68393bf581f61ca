"""Data for the report's heatmap figures: pick test images, compute every BagNet's patch heatmaps, save.

Figures 2-4 need, for a few correctly classified test images of different classes, the stride-1 patch
logits of all classes under BagNet9/17/33, and for one image those of its scrambled version as well.
Everything is written to one ``.npz`` that the heatmaps notebook draws from. The images are chosen by a
step of their own (``write_selection``), so a bad ``heatmaps.images`` entry fails that cheap step, before
Snakemake would delete a good ``.npz`` to recompute it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from ..compute.device import resolve_device
from ..data.loading import load_image, normalize
from ..errors import UserError
from ..evaluation.scramble import scramble_batch
from ..files.atomic import write_npz_atomic, write_table_atomic
from ..models.trained import load_trained
from .patches import patch_logits


def choose_images(predictions_path: str, count: int, wanted: list[str]) -> list[dict]:
    """Test rows to draw: the ``wanted`` file names, else ``count`` correct ones from evenly spread classes."""
    with open(predictions_path, newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["split"] == "test"]
    if wanted:
        chosen = []
        for name in wanted:
            matches = [r for r in rows if Path(r["path"]).name == name or r["path"].endswith(name)]
            if not matches:
                raise UserError(f"heatmaps.images: {name!r} is not a test image of the manifest")
            chosen.append(matches[0])
        return chosen
    first_correct: dict[str, dict[str, str]] = {}  # class -> its first correct test row
    for row in sorted(rows, key=lambda r: r["path"]):
        if row["correct"] == "1":
            first_correct.setdefault(row["label"], row)
    classes = sorted(first_correct)  # the data's classes that have a correct image, in the manifest's order
    if not classes:
        raise UserError(f"{predictions_path}: no correctly classified test image to draw")
    picks = np.linspace(0, len(classes) - 1, num=min(count, len(classes))).round().astype(int)
    return [first_correct[classes[i]] for i in dict.fromkeys(picks.tolist())]


SELECTION_COLUMNS = ("path", "label", "sha256")


def write_selection(predictions_path: str, count: int, wanted: list[str], out_path: str) -> list[dict]:
    """Choose the images (``choose_images``) and write them as a table for ``compute_heatmaps``."""
    chosen = [
        {column: row[column] for column in SELECTION_COLUMNS} for row in choose_images(predictions_path, count, wanted)
    ]
    write_table_atomic(out_path, SELECTION_COLUMNS, chosen)
    return chosen


def read_selection(path: str) -> list[dict]:
    if not Path(path).is_file():
        raise UserError(f"image selection not found: {path}")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if not rows or set(SELECTION_COLUMNS) - set(rows[0]):
        raise UserError(f"{path}: expected columns {', '.join(SELECTION_COLUMNS)} and at least one image")
    return rows


def compute_heatmaps(
    checkpoints: list[str],
    selection_path: str,
    out_path: str,
    scramble_grid: int,
    scramble_seed: int = 0,
    device: str = "auto",
    memory_mb: float = 2048,
) -> dict:
    """Write the selected images, the first one scrambled, and every model's stride-1 heatmaps (all classes)
    to ``out_path``."""
    dev = resolve_device(device)
    chosen = read_selection(selection_path)
    models, saved = [], []
    for checkpoint in checkpoints:
        model, meta = load_trained(checkpoint, dev)
        models.append(model)
        saved.append(meta)
    size = saved[0]["image_size"]
    if any(meta["image_size"] != size for meta in saved):
        raise UserError("the heatmap models were trained at different image sizes")
    images = torch.stack([load_image(row["path"], size) for row in chosen])
    scrambled = scramble_batch(images[:1], [chosen[0]["sha256"]], scramble_seed, scramble_grid)
    arrays = {
        "images": images.numpy(),
        "scrambled": scrambled.numpy(),
        "paths": np.array([row["path"] for row in chosen]),
        "labels": np.array([row["label"] for row in chosen]),
        "classes": np.array(saved[0]["classes"]),
        "models": np.array([meta["model"] for meta in saved]),
        "scramble_grid": np.array(scramble_grid),
    }
    batch = normalize(torch.cat([images, scrambled])).to(dev)
    for model, meta in zip(models, saved, strict=True):
        name = meta["model"]
        logits = patch_logits(model, batch, method="fast", memory_mb=memory_mb).cpu()
        with torch.no_grad():
            pooled = model(batch).cpu()
        arrays[f"{name}__heatmaps"] = logits[:-1].numpy()
        arrays[f"{name}__scrambled"] = logits[-1:].numpy()
        arrays[f"{name}__logits"] = pooled.numpy()
    write_npz_atomic(out_path, arrays)
    return {"images": [row["path"] for row in chosen], "models": [meta["model"] for meta in saved], "image_size": size}
