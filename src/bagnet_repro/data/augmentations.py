"""BagNets-v2's preprocessing presets (``get_augmentations``), built from torchvision's transforms v2.

The recipes take their crops from here rather than restating them: pretraining streams images through
the ``imagenet`` preset, and the ``modern`` fine-tuning recipe adds TrivialAugmentWide to its train side.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torchvision.transforms import v2

from ..errors import UserError
from .loading import IMAGENET_MEAN, IMAGENET_STD

IMAGENET_NORMALIZATION = (IMAGENET_MEAN, IMAGENET_STD)
PRESETS = ("imagenet", "fundus")
# ImageNet evaluation resizes the short side to size / 0.875 (256 for 224) before the centre crop.
EVAL_RESIZE_RATIO = 0.875


class Augmentations(NamedTuple):
    """The training and test pipelines of a preset (unpack as ``train, test = ...``)."""

    train: v2.Compose
    test: v2.Compose


def _finish(steps: list, normalization: tuple | None) -> v2.Compose:
    """Append float conversion and normalization; ``normalization=None`` keeps uint8 images."""
    if normalization is not None:
        mean, std = normalization
        steps = [v2.ToImage(), *steps, v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    return v2.Compose(steps)


def get_augmentations(
    img_size: int, normalization: tuple | None = IMAGENET_NORMALIZATION, preset: str = "imagenet"
) -> Augmentations:
    """Train and test pipelines for ``img_size`` px inputs.

    ``imagenet``: RandomResizedCrop + horizontal flip; test Resize(img_size / 0.875) + CenterCrop.
    ``fundus`` (retinal images, whose black border must stay whole): resize, rotation up to 15 degrees,
    horizontal flip, and with probability 0.5 a colour jitter of brightness and contrast 0.2; test: resize.
    ``normalization`` is a (mean, std) pair applied after scaling to [0, 1], or None for uint8 output.
    """
    if img_size < 1:
        raise UserError(f"image size must be positive, got {img_size}")
    if preset == "imagenet":
        train = [v2.RandomResizedCrop(img_size, antialias=True), v2.RandomHorizontalFlip()]
        test = [v2.Resize(round(img_size / EVAL_RESIZE_RATIO), antialias=True), v2.CenterCrop(img_size)]
    elif preset == "fundus":
        resize = v2.Resize((img_size, img_size), antialias=True)
        train = [
            resize,
            v2.RandomRotation(15),
            v2.RandomHorizontalFlip(),
            v2.RandomApply([v2.ColorJitter(brightness=0.2, contrast=0.2)], p=0.5),
        ]
        test = [resize]
    else:
        raise UserError(f"unknown augmentation preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    return Augmentations(_finish(train, normalization), _finish(test, normalization))
