"""Decode, resize and hold a split in memory as uint8, so epochs do not re-decode JPEGs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms.v2 import functional as F
from tqdm.auto import tqdm

from ..errors import UserError
from .classes import REPORT_CLASSES
from .inventory import ImageRecord

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ImageSet:
    """A split resized to ``size`` x ``size``: images (N x 3 x S x S, uint8), labels and keys."""

    images: torch.Tensor
    labels: torch.Tensor
    keys: list[str]
    paths: list[str]


def load_image(path: str, size: int | None) -> torch.Tensor:
    """RGB uint8 tensor resized to ``size`` x ``size`` (no crop: grayscale scenes become 3 equal channels).

    ``size=None`` keeps the image's own size."""
    try:
        with Image.open(path) as image:
            tensor = F.pil_to_tensor(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise UserError(f"cannot read image {path}: {exc}") from None
    return tensor if size is None else F.resize(tensor, [size, size], antialias=True)


def load_split(manifest: list[ImageRecord], split: str, size: int) -> ImageSet:
    records = [r for r in manifest if r.split == split]
    if not records:
        raise UserError(f"the manifest has no {split!r} images")
    images = torch.stack([load_image(r.path, size) for r in tqdm(records, desc=f"load {split}", unit="img",
                                                                 mininterval=1.0)])
    labels = torch.tensor([REPORT_CLASSES.index(r.label) for r in records])
    return ImageSet(images, labels, [r.sha256 for r in records], [r.path for r in records])


def normalize(batch: torch.Tensor, statistics: tuple = (IMAGENET_MEAN, IMAGENET_STD)) -> torch.Tensor:
    """uint8 batch -> float in [0, 1], then per-channel (mean, std): ImageNet's, the report's preprocessing,
    unless other ``statistics`` are given."""
    return F.normalize(batch.float().div_(255), *statistics)


def channel_statistics(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of a uint8 N x C x H x W set, on the [0, 1] scale."""
    mean = torch.zeros(images.shape[1], dtype=torch.float64)
    square = torch.zeros_like(mean)
    for start in range(0, len(images), 1024):  # in chunks: a float copy of all of CIFAR would be 600 MB
        chunk = images[start:start + 1024].double().div_(255)
        mean += chunk.sum(dim=(0, 2, 3))
        square += chunk.square().sum(dim=(0, 2, 3))
    count = images.numel() / images.shape[1]
    mean /= count
    std = (square / count - mean.square()).clamp_min(1e-12).sqrt()
    return mean.tolist(), std.tolist()
