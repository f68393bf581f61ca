"""Mundt et al.'s layer-wise feature-amount study: its data sets, one run per (variant, seed), and the table."""

from __future__ import annotations

import json

from ..config.datasets import FEATURE_AMOUNT_DATASETS, FEATURE_AMOUNT_TORCHVISION
from ..errors import UserError
from .arguments import at_least, settings_values, start_job
from .stages import Stage

STUDY_MODEL = "feature_amounts"  # the TrainSettings model of every run: the network is the variant's


def _dataset_choice(dataset: str, choices: tuple[str, ...]) -> None:
    if dataset not in choices:
        raise UserError(f"--dataset: unknown data set {dataset!r}; choose from: {', '.join(choices)}")


def feature_amount_data(dataset: str, root: str, out: str) -> None:
    """Download a torchvision data set once into a cache, recording its files' sha256 (Mundt et al.'s study).

    Args:
        dataset: a torchvision data set of the study (config/datasets.py: FEATURE_AMOUNT_TORCHVISION)
        root: the cache folder torchvision downloads into
        out: output JSON: the record of the files (the runs' data key)
    """
    _dataset_choice(dataset, tuple(FEATURE_AMOUNT_TORCHVISION))
    from ..feature_amounts.data import fetch_dataset

    record = fetch_dataset(name=dataset, root=root, record_path=out)
    print(f"{dataset}: {len(record['files'])} files in {record['root']}")


def out_of_memory_line(exc: RuntimeError) -> str:
    """A run that does not fit, with advice in this command's own options (it has no --memory-mb)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (
        f"out of memory ({first}); lower batch_size or image_size in --options (the config's "
        "feature_amounts.options), or run on a device with more memory (--device)"
    )


def feature_amount_run(
    dataset: str,
    data: str,
    depth: int,
    variant: str,
    metrics: str,
    history: str,
    checkpoint: str,
    recipe: str,
    seed: int,
    device: str,
    threads: int,
    options: str | None = None,
    gpus: int = 0,
) -> None:
    """Train one variant of the feature-amount study.

    Args:
        dataset: a data set of the study (config/datasets.py; scene15 is this workflow's data)
        data: the data record (torchvision sets) or the manifest (scene15)
        depth: VGG depth 7 + 3L: 10, 13, 16 (VGG-D), 19, 22, ...
        variant: a model id of the family, or uniform
        metrics: output JSON: the variant's accuracy, parameters and feature amounts
        history: output CSV: loss, accuracy and learning rate per epoch
        checkpoint: per-epoch resume checkpoint (kept on failure)
        recipe: a preset of config/recipes.py
        seed: the run's seed: every random draw of its training
        device: auto, cpu or cuda[:N]
        threads: CPU threads for torch
        options: JSON object of TrainSettings values that override the recipe
        gpus: GPUs the rule gave this job: unusable CUDA then stops it at once (docs/environments.md)
    """
    _dataset_choice(dataset, FEATURE_AMOUNT_DATASETS)
    at_least("--depth", depth, 10)
    values = settings_values(recipe, options, STUDY_MODEL, seed, device)
    start_job(device, threads, gpus)

    from ..compute.memory import is_out_of_memory
    from ..config.train_settings import TrainSettings
    from ..feature_amounts.study import run_variant

    try:
        summary = run_variant(
            dataset=dataset,
            data_file=data,
            depth=depth,
            key=variant,
            settings=TrainSettings(**values),
            metrics_path=metrics,
            history_path=history,
            checkpoint_path=checkpoint,
        )
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        raise UserError(out_of_memory_line(exc)) from None
    print(json.dumps(summary))


def feature_amount_table(metrics: list[str], out: str) -> None:
    """The study's table from its runs' metrics.

    Args:
        metrics: the runs' metrics files (feature-amount-run --metrics), in the table's order
        out: output TSV: one row per run
    """
    if not metrics:
        raise UserError("--metrics needs at least one metrics file")
    from ..feature_amounts.study import write_table

    rows = write_table(metrics_paths=metrics, out_path=out)
    print(f"{len(rows)} runs in {out}")


STAGES = (
    Stage("feature-amount-data", feature_amount_data),
    Stage("feature-amount-run", feature_amount_run),
    Stage("feature-amount-table", feature_amount_table),
)
