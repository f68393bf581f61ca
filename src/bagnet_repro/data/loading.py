"""Decode, resize and hold a split in memory as uint8, so epochs do not re-decode JPEGs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms.v2 import functional as F
from tqdm.auto import tqdm

from ..errors import UserError
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


# Pillow modes that hold more than 8 bits per sample. Pillow decodes 16-bit grey PNGs and TIFFs as I;16*
# and 16-bit PGMs as I, all with 16-bit values; its convert("RGB") clips them at 255 (mid-grey turns white).
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def to_8_bit(image: Image.Image) -> Image.Image:
    """``image`` with 8 bits per sample, scaled as image libraries convert to 8 bits (ImageMagick's
    ``-depth 8``, scikit-image's ``img_as_ubyte``), not clipped.

    16-bit samples keep their high byte (value >> 8): the choice Pillow itself makes when it decodes 16-bit
    RGB PNGs, so a 16-bit grey and a 16-bit colour image of the same scene load alike. ``I`` (32-bit) holds
    16-bit samples in every format Pillow decodes into it; larger values clip at 255. ``F`` (float) is read
    on the 0-1 scale when its values lie in it, else on Pillow's 0-255 scale, clipped.
    """
    if image.mode in _SIXTEEN_BIT_MODES:
        samples = np.asarray(image).astype(np.int64) >> 8
    elif image.mode == "F":
        samples = np.asarray(image, dtype=np.float64)
        finite = samples[np.isfinite(samples)]
        scale = 255.0 if finite.size and finite.min() >= 0 and finite.max() <= 1 else 1.0
        samples = np.rint(np.nan_to_num(samples) * scale)
    else:
        return image
    return Image.fromarray(np.clip(samples, 0, 255).astype(np.uint8), mode="L")


def load_image(path: str, size: int | None) -> torch.Tensor:
    """RGB uint8 tensor resized to ``size`` x ``size`` (no crop: grayscale scenes become 3 equal channels).

    ``size=None`` keeps the image's own size. High-bit-depth images are scaled to 8 bits (``to_8_bit``)."""
    try:
        with Image.open(path) as image:
            tensor = F.pil_to_tensor(to_8_bit(image).convert("RGB"))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise UserError(f"cannot read image {path}: {exc}") from None
    return tensor if size is None else F.resize(tensor, [size, size], antialias=True)


def manifest_classes(manifest: list[ImageRecord]) -> list[str]:
    """The data set's classes as the manifest records them: every label, sorted (label index = position)."""
    return sorted({r.label for r in manifest})


def load_split(manifest: list[ImageRecord], split: str, size: int) -> ImageSet:
    """The ``split`` images of ``manifest`` at ``size`` px, labelled by their index in ``manifest_classes``."""
    records = [r for r in manifest if r.split == split]
    if not records:
        raise UserError(f"the manifest has no {split!r} images")
    images = torch.stack(
        [load_image(r.path, size) for r in tqdm(records, desc=f"load {split}", unit="img", mininterval=1.0)]
    )
    classes = manifest_classes(manifest)
    labels = torch.tensor([classes.index(r.label) for r in records])
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
        chunk = images[start : start + 1024].double().div_(255)
        mean += chunk.sum(dim=(0, 2, 3))
        square += chunk.square().sum(dim=(0, 2, 3))
    count = images.numel() / images.shape[1]
    mean /= count
    std = (square / count - mean.square()).clamp_min(1e-12).sqrt()
    return mean.tolist(), std.tolist()
