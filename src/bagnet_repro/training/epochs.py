"""The epoch loop of every training in the pipeline (fine-tuning, the feature-amount study, DDP pretraining):
resume from the checkpoint, run the epochs, select the best, stop early, write the history row and the log line,
and write the resume checkpoint after every epoch.

What differs between the trainings (how an epoch trains and validates, who writes in a process group, how the
ranks agree) comes in as an ``EpochRules``; the rest is here once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..compute.accounting import JobRecord
from ..config.train_settings import TrainSettings
from ..files.torchfile import save_torch_atomic
from .checkpoints import read_resume_checkpoint
from .history import epoch_line, epoch_row
from .state import TrainingState


@dataclass(frozen=True)
class ResumePoint:
    """Where a run's resume checkpoint lives and which run it continues: ``key`` (the settings) and the digest
    ``data_key`` of ``data_file`` (the data listing). ``with_rng`` saves and restores the global generators."""

    path: Path
    key: str
    data_file: str
    data_key: str
    with_rng: bool


def _same(flag: bool) -> bool:
    return flag


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class EpochRules:
    """How one training's epochs go.

    ``run_epoch(epoch)`` trains and validates one epoch and returns its scores (names of ``history.SCORES``)
    and extra history columns. ``main`` is whether this process prints and writes (rank 0); ``agree`` makes
    a flag the same on every rank and ``barrier`` waits for all ranks after the checkpoint. ``where`` and
    ``line_note(extra)`` add to the epoch's log line. ``abandon_classes``: give up after
    ``settings.abandon_after`` epochs below twice chance of that many classes (None: never)."""

    run_epoch: Callable[[int], tuple[dict, dict]]
    main: bool = True
    agree: Callable[[bool], bool] = _same
    barrier: Callable[[], object] = _nothing
    where: str = ""
    line_note: Callable[[dict], str] = lambda extra: ""
    early_stop_scope: str = ""
    abandon_classes: int | None = None


def run_epochs(
    state: TrainingState,
    settings: TrainSettings,
    resume: ResumePoint,
    rules: EpochRules,
    job: JobRecord | None = None,
) -> None:
    """Continue ``state`` from the checkpoint at ``resume.path`` if it is this run's, then run epochs up to
    ``settings.epochs`` (or the early stop), writing the checkpoint atomically after each: a kill at any moment
    leaves the previous one whole, and a rerun ends as an uninterrupted run would. ``job`` counts the epochs."""
    saved = read_resume_checkpoint(resume.path, resume.key, resume.data_file, resume.data_key)
    if saved is not None:
        state.restore(saved)
        if rules.main:
            print(f"resuming {settings.model} after epoch {state.epoch} from {resume.path}", flush=True)
    first_epoch = state.epoch + 1
    for epoch in range(first_epoch, settings.epochs + 1):
        if state.stopped_early:
            break
        started = time.perf_counter()
        scores, extra = rules.run_epoch(epoch)
        is_best = state.select(settings, epoch, scores)
        state.stopped_early = rules.agree(state.stopped_early)
        row = epoch_row(epoch, scores, is_best, state.optimizer.param_groups[0]["lr"], started, **extra)
        state.history.append(row)
        state.epoch = epoch
        _report(state, settings, rules, row, extra)
        if job is not None:  # before the checkpoint: an epoch redone after a kill counts twice, as it ran twice
            job.epoch_done(first_epoch, epoch)
        _abandon_below_chance(state, settings, rules, epoch, scores["train_acc"])
        if rules.main:
            save_torch_atomic(state.checkpoint(resume.key, resume.data_key, resume.with_rng), resume.path)
        rules.barrier()


def _report(state: TrainingState, settings: TrainSettings, rules: EpochRules, row: dict, extra: dict) -> None:
    if not rules.main:
        return
    print(epoch_line(settings.model, settings.epochs, row, rules.where) + rules.line_note(extra), flush=True)
    if state.stopped_early:
        print(
            f"early stop{rules.early_stop_scope}: no {settings.select} improvement for {settings.patience} epochs",
            flush=True,
        )


def _abandon_below_chance(
    state: TrainingState, settings: TrainSettings, rules: EpochRules, epoch: int, train_acc: float
) -> None:
    if rules.abandon_classes is None or epoch != settings.abandon_after:
        return
    chance = 2 / rules.abandon_classes
    if train_acc < chance:
        state.abandoned, state.stopped_early = True, True
        print(
            f"abandoned: train accuracy {train_acc:.4f} after epoch {epoch} is below twice chance ({chance:.4f})",
            flush=True,
        )
