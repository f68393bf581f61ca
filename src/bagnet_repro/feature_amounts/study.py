"""One job of the study (a variant, a seed) and the study's table.

A job trains its variant with the pipeline's own loop (``training.loop.fit``: resume checkpoint every
epoch, micro-batches on out-of-memory, NaN stop, the abandon rule) and writes its metrics and history; the
table gathers every job's metrics in the reference's columns, one tidy row per (variant, seed).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace
from pathlib import Path

from ..config.train_settings import TrainSettings
from ..errors import UserError
from ..files.atomic import check_writable, write_table_atomic, write_text_atomic
from ..files.code_digest import code_sha256
from ..files.records import read_checked
from ..training.checkpoints import discard_checkpoint, seed_everything
from ..training.loop import fit
from .data import load_study_data, study_augmentation
from .family import profile_moments, variant
from .model import build_feature_amount_model

TABLE_COLUMNS = (
    "dataset",
    "depth",
    "model_id",
    "seed",
    "location",
    "scale",
    "shape",
    "features",
    "parameters",
    "mean",
    "variance",
    "skew",
    "best_val_acc",
    "best_epoch",
    "last_train_acc",
    "last_val_acc",
    "epochs_run",
    "abandoned",
)
# What the study's table reads of a variant's metrics.json: every column, the counts and accuracies numbers of at
# least 0 (mean, variance and skew describe the feature profile and may be negative).
COUNTS = ("depth", "seed", "parameters", "best_val_acc", "best_epoch", "last_train_acc", "last_val_acc", "epochs_run")
METRICS_SCHEMA = {
    "type": "object",
    "required": list(TABLE_COLUMNS),
    "properties": {name: {"type": "number", "minimum": 0} for name in COUNTS},
}


def run_variant(
    dataset: str,
    data_file: str,
    depth: int,
    key: str,
    settings: TrainSettings,
    metrics_path: str,
    history_path: str,
    checkpoint_path: str,
) -> dict:
    """Train variant ``key`` (a model id, or ``uniform``) of depth ``depth`` on ``dataset``; write metrics."""
    check_writable(metrics_path, history_path, checkpoint_path)
    if settings.image_size % 32:
        raise UserError(
            f"training option image_size must be a multiple of 32 for the VGG variants (five "
            f"2x2 pools), got {settings.image_size}"
        )
    try:
        chosen = variant(key, depth, settings.image_size)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    settings = replace(settings, augment=study_augmentation(dataset, settings.augment))
    seed_everything(settings.seed)
    train_set, val_set, classes = load_study_data(dataset, data_file, settings.image_size)
    model = build_feature_amount_model(chosen.features, classes, settings.image_size)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"variant {chosen.model_id}: features {list(chosen.features)}, {parameters} parameters", flush=True)
    state = fit(model, train_set, val_set, settings, classes, history_path, checkpoint_path, data_file)
    last = state.history[-1]
    mean, variance, skew = profile_moments(chosen.features)
    metrics = {
        "dataset": dataset,
        "depth": depth,
        "model_id": chosen.model_id,
        "seed": settings.seed,
        "location": chosen.location,
        "scale": chosen.scale,
        "shape": chosen.shape,
        "features": list(chosen.features),
        "parameters": parameters,
        "mean": mean,
        "variance": variance,
        "skew": skew,
        "best_val_acc": state.best.val_acc,
        "best_epoch": state.best.epoch,
        "last_train_acc": last["train_acc"],
        "last_val_acc": last["val_acc"],
        "epochs_run": state.epoch,
        "abandoned": state.abandoned,
        "settings": asdict(settings),
        "code_sha256": code_sha256(),
    }
    write_text_atomic(metrics_path, json.dumps(metrics, indent=2) + "\n")
    discard_checkpoint(Path(checkpoint_path))
    return {k: metrics[k] for k in ("model_id", "best_val_acc", "best_epoch", "abandoned")}


def _cell(value):
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value


def write_table(metrics_paths: list[str], out_path: str) -> list[dict]:
    """The study's table from the jobs' metrics files, in the order given (the variants' order)."""
    rows = []
    for path in metrics_paths:
        metrics = read_checked(path, METRICS_SCHEMA, "variant's metrics", "rerun its feature_amount_run job")
        rows.append({column: _cell(metrics[column]) for column in TABLE_COLUMNS})
    write_table_atomic(out_path, TABLE_COLUMNS, rows)
    return rows
