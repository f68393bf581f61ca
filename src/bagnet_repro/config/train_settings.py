"""The training options: every setting, its range and its choices, torch-free.

The one copy of these facts: the config schema's ``train.*`` bounds and enums are held equal to them by a test,
the Snakefile and the CLI build ``TrainSettings`` from a recipe (``recipes.py``) without importing PyTorch,
and the training modules check a run's values against them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import cast

from ..errors import UserError
from .catalog import HEADS
from .limits import MAX_IMAGE_SIZE
from .recipes import RECIPES

OPTIMIZERS = ("adam", "adamw", "sgd")
# Stepped after every mini-batch rather than every epoch: cosine warm restarts on the epoch boundary, and the
# feature-amount authors' schedule batch for batch (optimization.py).
PER_STEP_SCHEDULERS = ("sgdr", "sgdr_authors")
SCHEDULERS = ("none", "step", "cosine", *PER_STEP_SCHEDULERS)
# modern runs on the host image by image; crop_flip and pad_crop_flip run batched on the device.
AUGMENTS = ("none", "modern", "crop_flip", "pad_crop_flip")
MIXES = ("none", "cutmix_mixup")
# Autocast dtypes (evaluation/inference.py maps them); auto: bf16 on CUDA, fp32 elsewhere.
PRECISIONS = ("fp32", "bf16", "fp16", "auto")
SELECTS = ("val_acc", "val_loss")
# The feature-amount recipe's augment: each data set's own (feature_amounts/data.py resolves it before training).
BY_DATASET = "by_dataset"
# imagenet: ImageNet's statistics; data: the training set's per-channel mean/std; none: raw [0, 1] pixels.
NORMALIZATIONS = ("imagenet", "data", "none")

# The choices of each string setting (a test holds the schema's train.* enums equal to them).
CHOICES = {
    "optimizer": OPTIMIZERS,
    "scheduler": SCHEDULERS,
    "augment": AUGMENTS,
    "mix": MIXES,
    "precision": PRECISIONS,
    "select": SELECTS,
    "head": HEADS,
    "normalization": NORMALIZATIONS,
}

# Fields a recipe sets take their default from the report's preset: recipes.py is where they live.
_REPORT = RECIPES["report"]

# Allowed values of the numeric settings: (type, lower bound, bound excluded, upper bound, bound excluded).
# The config schema states the same bounds for train: (a test holds the two equal).
_NUMBER = (int, float)
# name: (type, low, low excluded, high, high excluded); None: no bound
RANGES: dict[str, tuple[type | tuple[type, ...], float, bool, float | None, bool]] = {
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
    optimizer: str = _REPORT["optimizer"]
    lr: float = _REPORT["lr"]
    lr_scale_batch: int = 0  # >0: lr is per this many images and scales linearly with batch_size
    momentum: float = 0.9
    weight_decay: float = _REPORT["weight_decay"]
    scheduler: str = _REPORT["scheduler"]
    warmup_epochs: int = 0
    warmup_factor: float = 0.01
    step_size: int = 30
    gamma: float = 0.1
    restart_epochs: int = 10  # sgdr: the first cycle's length in epochs (then doubling)
    min_lr: float = 0.0  # sgdr: the learning rate at the end of each cycle
    abandon_after: int = 0  # >0: after this epoch, stop (abandoned) if train accuracy is below twice chance
    label_smoothing: float = _REPORT["label_smoothing"]
    augment: str = _REPORT["augment"]
    mix: str = _REPORT["mix"]
    precision: str = _REPORT["precision"]
    bn_momentum: float | None = None  # every BatchNorm layer's momentum; None keeps each model's own
    eval_batch_size: int = 64  # validation batch
    tf32: bool = False
    channels_last: bool = False
    compile: bool = False
    select: str = _REPORT["select"]  # keep the best val_acc, or the lowest val_loss
    patience: int = _REPORT["patience"]  # >0: stop after this many epochs without a better selection metric
    min_delta: float = 0.0
    head: str = "report"
    normalization: str = "imagenet"
    weights: str | dict | None = None
    seed: int = 152
    device: str = "auto"

    def __post_init__(self) -> None:
        for name, (kind, low, low_open, high, high_open) in RANGES.items():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            if isinstance(value, bool) or not isinstance(value, kind):
                raise UserError(
                    f"training option {name} must be {'an integer' if kind is int else 'a number'}, got {value!r}"
                )
            number = float(cast(float, value))  # an int or a float by now
            too_low = number <= low if low_open else number < low
            too_high = high is not None and (number >= high if high_open else number > high)
            if too_low or too_high:
                bounds = f"{'>' if low_open else '>='} {low}" + (
                    f" and {'<' if high_open else '<='} {high}" if high is not None else ""
                )
                raise UserError(f"training option {name} must be {bounds}, got {value!r}")

    @property
    def effective_lr(self) -> float:
        return self.lr * self.batch_size / self.lr_scale_batch if self.lr_scale_batch else self.lr


# How each choice is named in its error line.
_LABELS = {"augment": "augmentation", "select": "selection metric"}


def check_choice(settings: TrainSettings, name: str) -> None:
    """One line naming the setting ``name`` if its value is not one of its ``CHOICES``."""
    value, choices = getattr(settings, name), CHOICES[name]
    if value not in choices:
        raise UserError(f"unknown {_LABELS.get(name, name)} {value!r}; choose one of: {', '.join(choices)}")


def check_choices(settings: TrainSettings) -> None:
    """One-line errors for a selection metric, precision or normalization this code does not know (the others are
    checked where they are built: ``augment`` may still be the feature-amount recipe's ``by_dataset`` here)."""
    for name in ("select", "precision", "normalization"):
        check_choice(settings, name)


def settings_key(settings: TrainSettings) -> str:
    """The settings as canonical JSON: the resume checkpoint continues only a run with the same key."""
    return json.dumps(asdict(settings), sort_keys=True)
