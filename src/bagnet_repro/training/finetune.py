"""Fine-tuning by recipe (the report's by default: Adam, fixed epochs, keep the best-validation weights).

A checkpoint is written atomically after every epoch (outside the rule's outputs), and a rerun with the
same settings continues from it, so a killed job loses at most one epoch; a finished run deletes it.
The shuffling order of an epoch depends only on (seed, epoch), so a resumed run sees the same batches
as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..code_digest import code_sha256
from ..config_checks import MAX_IMAGE_SIZE
from ..data.augmentations import get_augmentations
from ..data.batch_augment import crop_flip, crop_flip_matrices, pad_crop_flip, step_generator
from ..data.classes import REPORT_CLASSES
from ..data.inventory import read_records
from ..data.loading import IMAGENET_MEAN, IMAGENET_STD, ImageSet, channel_statistics, load_split, normalize
from ..device import resolve_device, to_device
from ..errors import UserError
from ..evaluation.inference import PRECISIONS, autocast_dtype, predict
from ..fileio import check_writable, file_digest, save_torch_atomic, write_table_atomic
from ..memory import is_out_of_memory
from ..models import build_model
from ..models.trained import save_trained
from ..torchfile import TorchFileError, read_torch_file
from .recipes import RECIPES
from .staging import stage_images
from .tally import EpochTally

# code_sha256: the package code of each epoch (code_digest.py)
HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "is_best", "lr", "code_sha256", "seconds")


# Fields a recipe sets take their default from the report's preset: recipes.py is where they live.
_REPORT = RECIPES["report"]


# Allowed values of the numeric settings: (type, lower bound, bound excluded, upper bound, bound excluded).
# The config schema states the same bounds for train: (a test holds the two equal).
_NUMBER = (int, float)
_RANGES = {
    "image_size": (int, 32, False, MAX_IMAGE_SIZE, False),
    "epochs": (int, 1, False, None, False),
    "batch_size": (int, 1, False, None, False),
    "lr": (_NUMBER, 0, True, None, False),
    "lr_scale_batch": (int, 0, False, None, False),
    "momentum": (_NUMBER, 0, False, 1, False),
    "weight_decay": (_NUMBER, 0, False, None, False),
    "warmup_epochs": (int, 0, False, None, False),
    "warmup_factor": (_NUMBER, 0, True, 1, False),
    "step_size": (int, 1, False, None, False),
    "gamma": (_NUMBER, 0, True, 1, False),
    "label_smoothing": (_NUMBER, 0, False, 1, False),
    "patience": (int, 0, False, None, False),
    "min_delta": (_NUMBER, 0, False, None, False),
    "restart_epochs": (int, 1, False, None, False),
    "min_lr": (_NUMBER, 0, False, None, False),
    "abandon_after": (int, 0, False, None, False),
    "eval_batch_size": (int, 1, False, None, False),
    "bn_momentum": (_NUMBER, 0, True, 1, False),
    "seed": (int, 0, False, None, False),
}
_OPTIONAL = ("bn_momentum",)  # None: not set


@dataclass(frozen=True)
class TrainSettings:
    """Everything that determines a training run (it keys the resume checkpoint)."""

    model: str
    image_size: int = 224
    epochs: int = _REPORT["epochs"]
    batch_size: int = _REPORT["batch_size"]
    optimizer: str = _REPORT["optimizer"]  # adam | adamw | sgd
    lr: float = _REPORT["lr"]
    lr_scale_batch: int = 0  # >0: lr is per this many images and scales linearly with batch_size
    momentum: float = 0.9
    weight_decay: float = _REPORT["weight_decay"]
    scheduler: str = _REPORT["scheduler"]  # none | step | cosine | sgdr | sgdr_authors (the last two per batch)
    warmup_epochs: int = 0
    warmup_factor: float = 0.01
    step_size: int = 30
    gamma: float = 0.1
    restart_epochs: int = 10  # sgdr: the first cycle's length in epochs (then doubling)
    min_lr: float = 0.0  # sgdr: the learning rate at the end of each cycle
    abandon_after: int = 0  # >0: after this epoch, stop (abandoned) if train accuracy is below twice chance
    label_smoothing: float = _REPORT["label_smoothing"]
    augment: str = _REPORT["augment"]  # none | modern | crop_flip | pad_crop_flip (the last two batched, on the device)
    mix: str = _REPORT["mix"]  # none | cutmix_mixup
    precision: str = _REPORT["precision"]  # fp32 | bf16 | fp16 (autocast) | auto (bf16 on CUDA, else fp32)
    bn_momentum: float | None = None  # every BatchNorm layer's momentum; None keeps each model's own
    eval_batch_size: int = 64  # validation batch
    tf32: bool = False
    channels_last: bool = False
    compile: bool = False
    select: str = _REPORT["select"]  # keep the best val_acc, or the lowest val_loss
    patience: int = _REPORT["patience"]  # >0: stop after this many epochs without a better selection metric
    min_delta: float = 0.0
    head: str = "report"
    normalization: str = "imagenet"  # imagenet | data (the training set's per-channel mean/std) | none
    weights: str | dict | None = None
    seed: int = 152
    device: str = "auto"

    def __post_init__(self) -> None:
        for name, (kind, low, low_open, high, high_open) in _RANGES.items():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            if isinstance(value, bool) or not isinstance(value, kind):
                raise UserError(
                    f"training option {name} must be {'an integer' if kind is int else 'a number'}, got {value!r}"
                )
            too_low = value <= low if low_open else value < low
            too_high = high is not None and (value >= high if high_open else value > high)
            if too_low or too_high:
                bounds = f"{'>' if low_open else '>='} {low}" + (
                    f" and {'<' if high_open else '<='} {high}" if high is not None else ""
                )
                raise UserError(f"training option {name} must be {bounds}, got {value!r}")

    @property
    def effective_lr(self) -> float:
        return self.lr * self.batch_size / self.lr_scale_batch if self.lr_scale_batch else self.lr


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1000 + epoch)
    return torch.randperm(n, generator=generator)


def rng_states() -> dict:
    """Every generator's state as tensors and plain data, so the checkpoint reads weights-only."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    states = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["gauss"],
        )
    )
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def build_optimizer(model: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    if settings.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=settings.effective_lr, weight_decay=settings.weight_decay)
    if settings.optimizer == "adamw":  # decoupled weight decay (Loshchilov and Hutter)
        return torch.optim.AdamW(model.parameters(), lr=settings.effective_lr, weight_decay=settings.weight_decay)
    if settings.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(), lr=settings.effective_lr, momentum=settings.momentum, weight_decay=settings.weight_decay
        )
    raise UserError(f"unknown optimizer {settings.optimizer!r}; choose adam, adamw or sgd")


PER_STEP_SCHEDULERS = ("sgdr", "sgdr_authors")
SCHEDULERS = ("none", "step", "cosine", *PER_STEP_SCHEDULERS)


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
    if settings.scheduler not in SCHEDULERS:
        raise UserError(f"unknown scheduler {settings.scheduler!r}; choose one of: {', '.join(SCHEDULERS)}")
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


def batch_augmentation(settings: TrainSettings, num_classes: int):
    """(per-image uint8 transform on the host or None, per-batch CutMix/MixUp or None) for the recipe.

    ``crop_flip`` and ``pad_crop_flip`` have neither: they run on the device, batched (``data/batch_augment.py``)."""
    from torchvision.transforms import v2

    per_image = None
    if settings.augment == "modern":
        crop_and_flip = get_augmentations(settings.image_size, normalization=None).train
        per_image = v2.Compose([crop_and_flip, v2.TrivialAugmentWide()])
    elif settings.augment not in AUGMENTS:
        raise UserError(f"unknown augmentation {settings.augment!r}; choose one of: {', '.join(AUGMENTS)}")
    mix = None
    if settings.mix == "cutmix_mixup":
        mix = v2.RandomChoice(
            [v2.CutMix(alpha=1.0, num_classes=num_classes), v2.MixUp(alpha=0.2, num_classes=num_classes)]
        )
    elif settings.mix != "none":
        raise UserError(f"unknown mix {settings.mix!r}; choose none or cutmix_mixup")
    return per_image, mix


AUGMENTS = ("none", "modern", "crop_flip", "pad_crop_flip")


def accumulate_gradients(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn,
    chunks: int,
    autocast_dtype: torch.dtype | None = None,
    scaler=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward and backward ``inputs`` in ``chunks`` equal micro-batches, each loss weighted by its share.

    The summed gradients equal those of one full batch (to rounding) for models whose layers treat
    samples independently; batch norm in training mode sees micro-batch statistics instead.
    Returns the batch's mean loss (a detached 0-d tensor on the device: reading it is the caller's choice,
    since it waits for the device) and its logits.
    """
    total, logits = None, []
    size = len(inputs)
    for part_inputs, part_targets in zip(inputs.chunk(chunks), targets.chunk(chunks), strict=True):
        with torch.autocast(inputs.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            part_logits = model(part_inputs)
            loss = loss_fn(part_logits.float(), part_targets) * (len(part_inputs) / size)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        total = loss.detach() if total is None else total + loss.detach()
        logits.append(part_logits.detach().float())
    return total, torch.cat(logits)


def _next_divisor(batch: int, current: int) -> int | None:
    return next((d for d in range(current + 1, batch + 1) if batch % d == 0), None)


class _Trainer:
    """One epoch at a time; keeps the micro-batch count that fits the GPU across steps.

    Nothing in a step waits for the device: the batch is indexed from images staged once (``staging.py``),
    augmented there, and the loss and accuracy are counted there (``tally.py``), read once per epoch.
    """

    def __init__(
        self,
        model,
        optimizer,
        settings: TrainSettings,
        device: torch.device,
        num_classes: int,
        step_scheduler=None,
        statistics: tuple = (IMAGENET_MEAN, IMAGENET_STD),
    ) -> None:
        self.model, self.optimizer, self.settings, self.device = model, optimizer, settings, device
        self.statistics = statistics  # per-channel (mean, std) of the inputs
        self.step_scheduler = step_scheduler  # stepped after every optimizer step (sgdr)
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
        self.autocast_dtype = autocast_dtype(settings.precision, device)
        use_scaler = settings.precision == "fp16" and device.type == "cuda"
        self.scaler = torch.amp.GradScaler(device.type) if use_scaler else None
        self.per_image, self.mix = batch_augmentation(settings, num_classes)
        self.erase = None
        if settings.augment == "modern":  # on the normalised tensor, as torchvision's recipe does
            from torchvision.transforms import v2

            self.erase = v2.RandomErasing(p=0.1)
        self.chunks = 1

    @property
    def augments_on_host(self) -> bool:
        """Whether a batch is augmented image by image on the host (so its images must stay there)."""
        return self.per_image is not None

    def _inputs(self, images: torch.Tensor, labels: torch.Tensor, epoch: int, step: int):
        if self.per_image is not None:
            images = torch.stack([self.per_image(image) for image in images])
        images, targets = to_device(images, self.device), to_device(labels, self.device)
        if self.settings.augment == "pad_crop_flip":  # on the stored pixels: the padding is black
            images = pad_crop_flip(images, step_generator(self.settings.seed, epoch, step))
        inputs = normalize(images, self.statistics)
        if self.settings.augment == "crop_flip":
            matrices = crop_flip_matrices(len(inputs), step_generator(self.settings.seed, epoch, step))
            inputs = crop_flip(inputs, matrices)
        if self.erase is not None:
            inputs = torch.stack([self.erase(image) for image in inputs])
        if self.mix is not None:
            inputs, targets = self.mix(inputs, targets)
        if self.settings.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return inputs, targets

    def step(self, inputs, targets, epoch: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        while True:
            self.optimizer.zero_grad(set_to_none=True)
            try:
                loss, logits = accumulate_gradients(
                    self.model, inputs, targets, self.loss_fn, self.chunks, self.autocast_dtype, self.scaler
                )
                break
            except RuntimeError as exc:  # torch.OutOfMemoryError on CUDA, the allocator's RuntimeError on the CPU
                if not is_out_of_memory(exc):
                    raise
                self.optimizer.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                chunks = _next_divisor(len(inputs), self.chunks)
                if chunks is None:
                    raise UserError(
                        f"training {self.settings.model}: one image does not fit on {self.device} "
                        f"(epoch {epoch}, step {step}); lower train.image_size"
                    ) from None
                print(
                    f"out of memory at epoch {epoch}, step {step}: batch {len(inputs)} is now "
                    f"{chunks} micro-batches of {len(inputs) // chunks} with accumulated gradients",
                    flush=True,
                )
                self.chunks = chunks
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.step_scheduler is not None:
            self.step_scheduler.step()
        return loss, logits

    def epoch(self, images: torch.Tensor, labels: torch.Tensor, epoch: int) -> tuple[float, float]:
        """One pass over ``images`` (uint8, staged by ``stage_images``) in the order of (seed, epoch).

        Returns the mean train loss and accuracy. A non-finite loss stops the run at the epoch's end (the
        first time the host looks), naming the step it happened at."""
        self.model.train()
        settings = self.settings
        order = epoch_order(len(labels), settings.seed, epoch).to(images.device)
        tally = EpochTally(self.device)
        batches = range(0, len(order), settings.batch_size)
        progress = tqdm(batches, desc=f"{settings.model} epoch {epoch}", unit="batch", mininterval=1.0)
        for step, start in enumerate(progress, start=1):
            index = order[start : start + settings.batch_size]
            inputs, targets = self._inputs(images[index], labels[index], epoch, step)
            loss, logits = self.step(inputs, targets, epoch, step)
            tally.add(step, loss, logits, targets)
        bad_step = tally.bad_step()
        if bad_step:
            raise UserError(
                f"training {settings.model}: non-finite loss at epoch {epoch}, step {bad_step}; "
                "lower train.lr or check the data"
            )
        return tally.means()


def settings_key(settings: TrainSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def check_choices(settings: TrainSettings) -> None:
    """One-line errors for a selection metric or precision this code does not know."""
    if settings.select not in ("val_acc", "val_loss"):
        raise UserError(f"unknown selection metric {settings.select!r}; choose val_acc or val_loss")
    if settings.precision not in PRECISIONS:
        raise UserError(f"unknown precision {settings.precision!r}; choose one of: {', '.join(PRECISIONS)}")
    if settings.normalization not in NORMALIZATIONS:
        raise UserError(f"unknown normalization {settings.normalization!r}; choose one of: {', '.join(NORMALIZATIONS)}")


NORMALIZATIONS = ("imagenet", "data", "none")


def input_statistics(settings: TrainSettings, train_set: ImageSet) -> tuple:
    """(mean, std) per channel that inputs are normalised with: ImageNet's, the training set's, or none."""
    if settings.normalization == "data":
        return channel_statistics(train_set.images)
    if settings.normalization == "none":
        return [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    return IMAGENET_MEAN, IMAGENET_STD


def initial_state() -> dict:
    """The bookkeeping a run starts from (and a checkpoint carries): no epoch done, no best weights yet."""
    return {
        "epoch": 0,
        "best_val_acc": -1.0,
        "best_val_loss": float("inf"),
        "best_epoch": 0,
        "best_state": None,
        "since_best": 0,
        "stopped_early": False,
        "abandoned": False,
        "history": [],
    }


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


def set_tf32(device: torch.device, enabled: bool) -> None:
    """TF32 matmuls and convolutions on CUDA (``tf32`` setting); other devices have no such mode."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled


def optimisation_state(model: nn.Module, optimizer, scheduler, scaler) -> dict:
    """What a resume checkpoint holds besides the bookkeeping: weights, optimizer, schedule, loss scaler."""
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
    }


def load_optimisation_state(saved: dict, model: nn.Module, optimizer, scheduler, scaler) -> None:
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    if scaler is not None and saved.get("scaler"):
        scaler.load_state_dict(saved["scaler"])


def read_resume_checkpoint(path: Path, key: str, data_file: str, data_key: str) -> dict | None:
    """The resume checkpoint at ``path`` if it continues this run, else None (with a word why).

    A checkpoint records ``data_key``, the digest of the data listing it was trained on (``data_file``, the
    manifest or split table):
    resuming on other data would mix epochs of two data sets, so that is refused with one line saying
    what to delete. An unreadable checkpoint is refused the same way, never silently replaced.
    """
    if not path.exists():
        return None
    try:
        saved = read_torch_file(path)  # weights-only: earlier checkpoints (numpy RNG objects) are refused
    except TorchFileError as exc:
        raise UserError(
            f"cannot read the resume checkpoint {path}: {exc.reason}; delete it to start this run over"
        ) from None
    if not isinstance(saved, dict) or "state" not in saved:
        raise UserError(f"{path} is not a resume checkpoint of this pipeline; delete it to start this run over")
    if saved.get("data") != data_key:
        raise UserError(
            f"{path} was written on other data ({data_file} has changed since); delete it to start "
            "this run over on the new data"
        )
    if saved.get("settings") != key:
        print(f"ignoring {path}: it was written with different settings; starting over", flush=True)
        return None
    return saved


def discard_checkpoint(path: Path) -> None:
    """Delete a finished run's resume checkpoint: its outputs are written, and the checkpoint (weights,
    optimizer state and the best weights, several times the model's size) would only fill the disk."""
    if path.exists():
        path.unlink()
        print(f"removed the resume checkpoint {path}: the run is complete", flush=True)


def fit(
    model: nn.Module,
    train_set: ImageSet,
    val_set: ImageSet,
    settings: TrainSettings,
    num_classes: int,
    history_path: str,
    checkpoint_path: str,
    data_file: str,
) -> dict:
    """The epoch loop every training in the pipeline runs: fine-tuning here, and the feature-amount study.

    After every epoch the model, optimizer, scheduler, scaler, RNG states and bookkeeping are written
    atomically to ``checkpoint_path``, keyed by the settings and by the digest of ``data_file`` (the data
    listing); a rerun continues from there and ends with the same result as an uninterrupted run. Writes
    the per-epoch history and returns the final bookkeeping (best weights, epoch, scores, stop reason);
    the caller writes its outputs and then deletes the checkpoint.
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
    trainer = _Trainer(model, optimizer, settings, device, num_classes, scheduler if per_step else None, statistics)
    forward = torch.compile(model) if settings.compile else model
    trainer.model = forward
    loss_fn = nn.CrossEntropyLoss()

    checkpoint_path = Path(checkpoint_path)
    state = initial_state()
    data_key = file_digest(data_file)
    saved = read_resume_checkpoint(checkpoint_path, settings_key(settings), data_file, data_key)
    if saved is not None:
        load_optimisation_state(saved, model, optimizer, scheduler, trainer.scaler)
        set_rng_states(saved["rng"])
        state = {**initial_state(), **saved["state"]}
        print(f"resuming {settings.model} after epoch {state['epoch']} from {checkpoint_path}", flush=True)

    train_images = stage_images(train_set.images, device, on_host=trainer.augments_on_host)
    train_labels = train_set.labels.to(train_images.device)
    val_images = stage_images(val_set.images, device)
    for epoch in range(state["epoch"] + 1, settings.epochs + 1):
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
        state["history"].append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "is_best": int(is_best),
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": round(time.perf_counter() - started, 3),
                "code_sha256": code_sha256(),
            }
        )
        state["epoch"] = epoch
        print(
            f"{settings.model} epoch {epoch}/{settings.epochs}: train_loss {train_loss:.4f} "
            f"train_acc {train_acc:.4f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}",
            flush=True,
        )
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
                **optimisation_state(model, optimizer, scheduler, trainer.scaler),
                "rng": rng_states(),
                "state": state,
            },
            checkpoint_path,
        )

    if state["best_state"] is None:
        raise UserError(f"training {settings.model}: train.epochs must be at least 1")
    write_table_atomic(history_path, HISTORY_COLUMNS, state["history"], delimiter=",")
    return state


def train(
    manifest_path: str,
    settings: TrainSettings,
    best_path: str,
    history_path: str,
    checkpoint_path: str,
    weights_cache: str | None = None,
) -> dict:
    """Fine-tune ``settings.model`` on the manifest's train split (``fit``, resumable), keep the best weights
    (by ``settings.select``) in ``best_path`` and the per-epoch history; then delete the checkpoint."""
    check_choices(settings)
    if settings.normalization != "imagenet":
        raise UserError(
            "normalization is an option of the feature-amount study: the fine-tuned models are "
            "evaluated with ImageNet's statistics, so they are trained with them"
        )
    check_writable(checkpoint_path, best_path, history_path)
    seed_everything(settings.seed)
    manifest = read_records(manifest_path)
    train_set = load_split(manifest, "train", settings.image_size)
    val_set = load_split(manifest, "val", settings.image_size)
    model = build_model(
        settings.model, len(REPORT_CLASSES), weights=settings.weights, head=settings.head, cache=weights_cache
    )
    print(f"{settings.model}: starting from {settings.weights or 'random init'}", flush=True)
    state = fit(model, train_set, val_set, settings, len(REPORT_CLASSES), history_path, checkpoint_path, manifest_path)
    save_trained(
        best_path,
        model=settings.model,
        head=settings.head,
        classes=list(REPORT_CLASSES),
        image_size=settings.image_size,
        epoch=state["best_epoch"],
        val_acc=state["best_val_acc"],
        val_loss=state["best_val_loss"],
        settings=asdict(settings),
        state_dict=state["best_state"],
    )
    discard_checkpoint(Path(checkpoint_path))
    return {
        "best_epoch": state["best_epoch"],
        "best_val_acc": state["best_val_acc"],
        "best_val_loss": state["best_val_loss"],
        "epochs_run": state["epoch"],
    }
