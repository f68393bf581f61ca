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


def normalize(batch: torch.Tensor) -> torch.Tensor:
    """uint8 batch -> float, ImageNet mean/std (the report's preprocessing)."""
    return F.normalize(batch.float().div_(255), IMAGENET_MEAN, IMAGENET_STD)
