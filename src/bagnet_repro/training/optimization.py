"""The optimizer and the learning-rate schedules a recipe names (their choices: settings.py)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config.train_settings import TrainSettings, check_choice


def build_optimizer(model: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    check_choice(settings, "optimizer")
    if settings.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=settings.effective_lr, weight_decay=settings.weight_decay)
    if settings.optimizer == "adamw":  # decoupled weight decay (Loshchilov and Hutter)
        return torch.optim.AdamW(model.parameters(), lr=settings.effective_lr, weight_decay=settings.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=settings.effective_lr, momentum=settings.momentum, weight_decay=settings.weight_decay
    )


def sgdr_authors_lr(step: int, settings: TrainSettings, steps_per_epoch: int, samples: int) -> float:
    """The learning rate of optimizer step ``step`` (from 0) in the feature-amount study's own SGDR code.

    Their batch b of an epoch (from 1) sits at ``epoch + b / floor(samples / batch)`` of the cycle, so the
    first batch is already past the maximum, an epoch's ceil(samples / batch) batches run slightly beyond it,
    and the cycle is renewed only after the first batch of the next one has been given the end-of-cycle rate:
    each restart comes one batch late (batch 2 of epochs 11, 31, 71 at the defaults)."""
    epoch, batch = divmod(step, steps_per_epoch)
    batch += 1
    per_epoch = max(1, samples // settings.batch_size)  # theirs divides by zero below one full batch
    start, period = 0, settings.restart_epochs
    while epoch >= start + period:
        start, period = start + period, 2 * period
    position = epoch - start + batch / per_epoch
    if start and epoch == start and batch == 1:  # the old cycle's end, one batch into the new one
        period //= 2
        position = period + batch / per_epoch
    high, low = settings.effective_lr, settings.min_lr
    return low + 0.5 * (high - low) * (1 + math.cos(math.pi * position / period))


def build_scheduler(
    optimizer: torch.optim.Optimizer, settings: TrainSettings, steps_per_epoch: int = 1, samples: int | None = None
):
    """Per-epoch learning-rate factor: optional linear warm-up, then constant, step or cosine decay; or,
    stepped per mini-batch, cosine warm restarts (Loshchilov and Hutter), the first cycle ``restart_epochs``
    long and each next one twice as long, down to ``min_lr``: ``sgdr`` restarts on the epoch boundary (the
    first batch of a cycle at the full rate), ``sgdr_authors`` is the feature-amount authors' schedule batch
    for batch (``sgdr_authors_lr``; ``samples`` is the training set's size)."""
    check_choice(settings, "scheduler")
    if settings.scheduler == "sgdr":
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer, T_0=settings.restart_epochs * steps_per_epoch, T_mult=2, eta_min=settings.min_lr
        )
    if settings.scheduler == "sgdr_authors":
        samples = steps_per_epoch * settings.batch_size if samples is None else samples
        high = settings.effective_lr
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: sgdr_authors_lr(step, settings, steps_per_epoch, samples) / high
        )

    def factor(epoch: int) -> float:  # epoch counts from 0
        if epoch < settings.warmup_epochs:
            return settings.warmup_factor + (1 - settings.warmup_factor) * epoch / settings.warmup_epochs
        if settings.scheduler == "step":
            return settings.gamma ** (epoch // settings.step_size)
        if settings.scheduler == "cosine":
            span = max(1, settings.epochs - settings.warmup_epochs)
            return 0.5 * (1 + math.cos(math.pi * (epoch - settings.warmup_epochs) / span))
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def set_tf32(device: torch.device, enabled: bool) -> None:
    """TF32 matmuls and convolutions on CUDA (``tf32`` setting); other devices have no such mode."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled
