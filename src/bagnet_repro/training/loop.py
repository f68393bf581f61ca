"""Fine-tuning and the feature-amount study on images held in memory: the model, optimizer and trainer of a
run, and its epoch (train, then validate), run by the shared epoch loop (``epochs.run_epochs``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import cast

import torch
from torch import nn

from ..compute.accounting import JobRecord
from ..compute.device import resolve_device
from ..compute.numerics import numerics
from ..config.train_settings import PER_STEP_SCHEDULERS, TrainSettings, settings_key
from ..data.loading import IMAGENET_MEAN, IMAGENET_STD, ImageSet, channel_statistics
from ..errors import UserError
from ..evaluation.inference import predict
from ..files.atomic import file_digest, write_table_atomic
from .epochs import EpochRules, ResumePoint, run_epochs
from .optimization import build_optimizer, build_scheduler, set_tf32
from .staging import stage_images
from .state import TrainingState
from .trainer import Trainer

# code_sha256: the package code of each epoch (files/code_digest.py)
HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "is_best", "lr", "code_sha256", "seconds")


def input_statistics(settings: TrainSettings, train_set: ImageSet) -> tuple:
    """(mean, std) per channel that inputs are normalized with: ImageNet's, the training set's, or none."""
    if settings.normalization == "data":
        return channel_statistics(train_set.images)
    if settings.normalization == "none":
        return [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    return IMAGENET_MEAN, IMAGENET_STD


def set_batchnorm_momentum(model: nn.Module, momentum: float) -> None:
    """Give every BatchNorm layer of ``model`` the same running-statistics ``momentum``.

    The original BagNets' stem keeps 0.001, which suits fine-tuning from ImageNet statistics; from random
    initialisation its running statistics would take thousands of steps to settle, and the network
    evaluates far below its training accuracy until they do."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = momentum


def fit(
    model: nn.Module,
    train_set: ImageSet,
    val_set: ImageSet,
    settings: TrainSettings,
    num_classes: int,
    history_path: str,
    checkpoint_path: str | Path,
    data_file: str,
    job: JobRecord | None = None,
) -> TrainingState:
    """The epoch loop every training in the pipeline runs: fine-tuning here, and the feature-amount study.

    After every epoch the model, optimizer, scheduler, scaler, RNG states and bookkeeping are written
    atomically to ``checkpoint_path``, keyed by the settings and by the digest of ``data_file`` (the data
    listing); a rerun continues from there and ends with the same result as an uninterrupted run
    (``epochs.run_epochs``). Writes the per-epoch history and returns the final state (best weights, epoch,
    scores, stop reason); the caller writes its outputs and then deletes the checkpoint. ``job``, the caller's
    compute record, gets the numerics in force and the epochs of this attempt.
    """
    device = resolve_device(settings.device)
    set_tf32(device, settings.tf32)
    if settings.bn_momentum is not None:
        set_batchnorm_momentum(model, settings.bn_momentum)
    model.to(device)
    if settings.channels_last:
        model.to(memory_format=torch.channels_last)
    steps_per_epoch = math.ceil(len(train_set.labels) / settings.batch_size)
    optimizer = build_optimizer(model, settings)
    scheduler = build_scheduler(optimizer, settings, steps_per_epoch, len(train_set.labels))
    per_step = settings.scheduler in PER_STEP_SCHEDULERS
    statistics = input_statistics(settings, train_set)
    trainer = Trainer(model, optimizer, settings, device, num_classes, scheduler if per_step else None, statistics)
    forward = cast(nn.Module, torch.compile(model)) if settings.compile else model
    trainer.model = forward
    loss_fn = nn.CrossEntropyLoss()
    if job is not None:
        job.set_numerics(
            numerics(device, settings.precision, trainer.autocast_dtype, settings.compile, settings.channels_last)
        )
    state = TrainingState(model, optimizer, scheduler, trainer.scaler)
    train_images = stage_images(train_set.images, device, on_host=trainer.augments_on_host)
    train_labels = train_set.labels.to(train_images.device)
    val_images = stage_images(val_set.images, device)

    def run_epoch(epoch: int) -> tuple[dict, dict]:
        train_loss, train_acc = trainer.epoch(train_images, train_labels, epoch)
        if not per_step:
            scheduler.step()
        val_logits = predict(
            forward,
            val_images,
            device,
            settings.eval_batch_size,
            desc="validate",
            autocast_dtype=trainer.autocast_dtype,
            channels_last=settings.channels_last,
            statistics=statistics,
        )
        val_loss = loss_fn(val_logits, val_set.labels).item()
        val_acc = (val_logits.argmax(1) == val_set.labels).float().mean().item()
        return {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc}, {}

    resume = ResumePoint(Path(checkpoint_path), settings_key(settings), data_file, file_digest(data_file), True)
    run_epochs(state, settings, resume, EpochRules(run_epoch, abandon_classes=num_classes), job)
    if state.best.weights is None:
        raise UserError(f"training {settings.model}: train.epochs must be at least 1")
    write_table_atomic(history_path, HISTORY_COLUMNS, state.history, delimiter=",")
    return state
