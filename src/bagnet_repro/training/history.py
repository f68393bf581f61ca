"""One epoch's history row and its log line, the same for fine-tuning, the feature-amount study and pretraining.

The row carries the package code's digest (``files/code_digest.py``) and the epoch's seconds; the line prints the
scores a reader follows in the log. Both come from here, so the table and the log cannot disagree.
"""

from __future__ import annotations

import time

from ..files.code_digest import code_sha256

SCORES = ("train_loss", "train_acc", "val_loss", "val_acc", "val_top5")


def epoch_row(epoch: int, scores: dict, is_best: bool, lr: float, started: float, **extra) -> dict:
    """The history row of ``epoch``: its ``scores`` (names of ``SCORES``), whether it is the best so far, the
    learning rate, the code digest and the seconds since ``started`` (``time.perf_counter``); ``extra`` columns
    (the replicas' digests of pretraining) follow."""
    return {
        "epoch": epoch,
        **scores,
        "is_best": int(is_best),
        "lr": lr,
        "code_sha256": code_sha256(),
        "seconds": round(time.perf_counter() - started, 3),
        **extra,
    }


def epoch_line(model: str, epochs: int, row: dict, where: str = "") -> str:
    """``<model> epoch <n>/<epochs><where>: train_loss ... val_acc ...``, the scores of ``row`` to four places."""
    scores = " ".join(f"{name} {row[name]:.4f}" for name in SCORES if name in row)
    return f"{model} epoch {row['epoch']}/{epochs}{where}: {scores}"
