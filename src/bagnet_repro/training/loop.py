"""The epoch loop every training in the pipeline runs (fine-tuning and the feature-amount study): validation,
selection of the best epoch, early stopping and abandoning, the history, and a resume checkpoint after every epoch.
"""

from __future__ import annotations

import math
import time
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
from ..files.torchfile import save_torch_atomic
from .checkpoints import (
    initial_state,
    load_optimization_state,
    optimization_state,
    read_resume_checkpoint,
    rng_states,
    set_rng_states,
)
from .history import epoch_line, epoch_row
from .optimization import build_optimizer, build_scheduler, set_tf32
from .staging import stage_images
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


def select_epoch(
    settings: TrainSettings, state: dict, epoch: int, val_loss: float, val_acc: float, model: nn.Module
) -> bool:
    """Keep a copy of ``model``'s weights if ``epoch`` is the best so far, count the epochs without
    improvement and flag the early stop (``settings.patience``). Returns whether the epoch is the best."""
    is_best = improved(settings, state, val_loss, val_acc)
    if is_best:
        state.update(
            best_val_acc=val_acc,
            best_val_loss=val_loss,
            best_epoch=epoch,
            since_best=0,
            best_state={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        )
    else:
        state["since_best"] += 1
    state["stopped_early"] = bool(settings.patience) and state["since_best"] >= settings.patience
    return is_best


def improved(settings: TrainSettings, state: dict, val_loss: float, val_acc: float) -> bool:
    if state["best_state"] is None:
        return True
    if settings.select == "val_loss":
        return val_loss < state["best_val_loss"] - settings.min_delta
    return val_acc > state["best_val_acc"] + settings.min_delta


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
) -> dict:
    """The epoch loop every training in the pipeline runs: fine-tuning here, and the feature-amount study.

    After every epoch the model, optimizer, scheduler, scaler, RNG states and bookkeeping are written
    atomically to ``checkpoint_path``, keyed by the settings and by the digest of ``data_file`` (the data
    listing); a rerun continues from there and ends with the same result as an uninterrupted run. Writes
    the per-epoch history and returns the final bookkeeping (best weights, epoch, scores, stop reason);
    the caller writes its outputs and then deletes the checkpoint. ``job``, the caller's compute record, gets the
    numerics in force and the epochs of this attempt.
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

    checkpoint_file = Path(checkpoint_path)
    state = initial_state()
    data_key = file_digest(data_file)
    saved = read_resume_checkpoint(checkpoint_file, settings_key(settings), data_file, data_key)
    if saved is not None:
        load_optimization_state(saved, model, optimizer, scheduler, trainer.scaler)
        set_rng_states(saved["rng"])
        state = {**initial_state(), **saved["state"]}
        print(f"resuming {settings.model} after epoch {state['epoch']} from {checkpoint_file}", flush=True)

    train_images = stage_images(train_set.images, device, on_host=trainer.augments_on_host)
    train_labels = train_set.labels.to(train_images.device)
    val_images = stage_images(val_set.images, device)
    first_epoch = state["epoch"] + 1
    for epoch in range(first_epoch, settings.epochs + 1):
        if state["stopped_early"]:
            break
        started = time.perf_counter()
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
        is_best = select_epoch(settings, state, epoch, val_loss, val_acc, model)
        row = epoch_row(
            epoch,
            {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc},
            is_best,
            optimizer.param_groups[0]["lr"],
            started,
        )
        state["history"].append(row)
        state["epoch"] = epoch
        print(epoch_line(settings.model, settings.epochs, row), flush=True)
        if job is not None:
            job.epoch_done(first_epoch, epoch)
        if state["stopped_early"]:
            print(f"early stop: no {settings.select} improvement for {settings.patience} epochs", flush=True)
        if epoch == settings.abandon_after and train_acc < 2 / num_classes:
            state.update(abandoned=True, stopped_early=True)
            print(
                f"abandoned: train accuracy {train_acc:.4f} after epoch {epoch} is below twice chance "
                f"({2 / num_classes:.4f})",
                flush=True,
            )
        save_torch_atomic(
            {
                "settings": settings_key(settings),
                "data": data_key,
                **optimization_state(model, optimizer, scheduler, trainer.scaler),
                "rng": rng_states(),
                "state": state,
            },
            checkpoint_file,
        )

    if state["best_state"] is None:
        raise UserError(f"training {settings.model}: train.epochs must be at least 1")
    write_table_atomic(history_path, HISTORY_COLUMNS, state["history"], delimiter=",")
    return state
