"""What a training run is at the end of an epoch: the model with its optimizer, schedule and loss scaler, and
the bookkeeping (epochs done, the history, the best epoch and its weights, early stopping).

One object for fine-tuning, the feature-amount study and pretraining, so the resume checkpoint holds the same
things for all of them and a run continued from it is the run that was killed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ..config.train_settings import TrainSettings
from .checkpoints import rng_states, set_rng_states


@dataclass
class Best:
    """The best epoch so far (by ``settings.select``) and a CPU copy of its weights."""

    epoch: int = 0
    val_acc: float = -1.0
    val_loss: float = float("inf")
    val_top5: float = -1.0
    weights: dict | None = None


@dataclass
class TrainingState:
    """A run between two epochs. ``optimizer``, ``scheduler`` and ``scaler`` (None without loss scaling) belong
    to ``model``; ``epoch`` counts the epochs done, ``history`` holds their rows."""

    model: nn.Module
    optimizer: Any
    scheduler: Any
    scaler: Any = None
    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best: Best = field(default_factory=Best)
    since_best: int = 0
    stopped_early: bool = False
    abandoned: bool = False

    def select(self, settings: TrainSettings, epoch: int, scores: dict) -> bool:
        """Keep a copy of the weights if ``epoch`` is the best so far, count the epochs without improvement
        and flag the early stop (``settings.patience``). Returns whether the epoch is the best."""
        is_best = self._improved(settings, scores["val_loss"], scores["val_acc"])
        if is_best:
            weights = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
            top5 = scores.get("val_top5", self.best.val_top5)
            self.best = Best(epoch, scores["val_acc"], scores["val_loss"], top5, weights)
            self.since_best = 0
        else:
            self.since_best += 1
        self.stopped_early = bool(settings.patience) and self.since_best >= settings.patience
        return is_best

    def _improved(self, settings: TrainSettings, val_loss: float, val_acc: float) -> bool:
        if self.best.weights is None:
            return True
        if settings.select == "val_loss":
            return val_loss < self.best.val_loss - settings.min_delta
        return val_acc > self.best.val_acc + settings.min_delta

    def bookkeeping(self) -> dict:
        """The bookkeeping as the checkpoint's plain data (keys as checkpoints written before this class)."""
        return {
            "epoch": self.epoch,
            "best_val_acc": self.best.val_acc,
            "best_val_loss": self.best.val_loss,
            "best_val_top5": self.best.val_top5,
            "best_epoch": self.best.epoch,
            "best_state": self.best.weights,
            "since_best": self.since_best,
            "stopped_early": self.stopped_early,
            "abandoned": self.abandoned,
            "history": self.history,
        }

    def checkpoint(self, key: str, data_key: str, with_rng: bool) -> dict:
        """The resume checkpoint's content: ``key`` (the settings) and ``data_key`` (the data listing's digest)
        say which run it continues; ``with_rng`` adds every generator's state (for runs that draw from the
        global generators across epochs)."""
        saved: dict = {
            "settings": key,
            "data": data_key,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
        }
        if with_rng:
            saved["rng"] = rng_states()
        saved["state"] = self.bookkeeping()
        return saved

    def restore(self, saved: dict) -> None:
        """Continue from a checkpoint ``checkpoint`` wrote (generators included when it holds them)."""
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        if self.scaler is not None and saved.get("scaler"):
            self.scaler.load_state_dict(saved["scaler"])
        if "rng" in saved:
            set_rng_states(saved["rng"])
        book = saved["state"]
        self.epoch, self.history = book["epoch"], book["history"]
        self.best = Best(
            book["best_epoch"],
            book["best_val_acc"],
            book["best_val_loss"],
            book.get("best_val_top5", -1.0),
            book["best_state"],
        )
        self.since_best, self.stopped_early = book["since_best"], book["stopped_early"]
        self.abandoned = book.get("abandoned", False)
