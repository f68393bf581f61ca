"""Images decoded on the fly from a split TSV (split, class, path): for ImageNet-sized pretraining sets,
which do not fit in memory as the 15-scene splits do."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from ..errors import UserError
from .augmentations import get_augmentations
from .imagenet import SPLIT_COLUMNS
from .loading import load_image


def read_split_table(path: str | os.PathLike) -> tuple[dict[str, list[tuple[str, int]]], list[str]]:
    """{split: [(image path, class index)]} and the sorted class names of a ``holdout-split`` TSV."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"split table not found: {path}")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if not reader.fieldnames or not set(SPLIT_COLUMNS) <= set(reader.fieldnames):
            raise UserError(f"{path}: expected the columns {', '.join(SPLIT_COLUMNS)}")
        rows = list(reader)
    classes = sorted({row["class"] for row in rows})
    index = {name: i for i, name in enumerate(classes)}
    splits: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        splits.setdefault(row["split"], []).append((row["path"], index[row["class"]]))
    for split in ("train", "val"):
        if not splits.get(split):
            raise UserError(f"{path} has no {split!r} rows")
    return splits, classes


def train_transform(size: int) -> v2.Compose:
    """ImageNet training augmentation of the BagNet papers (uint8 in, uint8 out)."""
    return get_augmentations(size, normalization=None).train


def eval_transform(size: int) -> v2.Compose:
    """The standard ImageNet evaluation: resize the short side to size/0.875, then centre-crop."""
    return get_augmentations(size, normalization=None).test


def from_worker(exc: UserError) -> UserError:
    """A loader worker's error as its own one line (the DataLoader re-raises it wrapped in a traceback)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    marker = f"{UserError.__module__}.{UserError.__name__}: "
    if len(lines) > 1 and lines[-1].startswith(marker):
        return UserError(lines[-1][len(marker) :])
    return exc


class StreamedImages(Dataset):
    """(uint8 image after ``transform``, class index) per item; decoding happens in the loader workers."""

    def __init__(self, items: list[tuple[str, int]], transform) -> None:
        self.items, self.transform = items, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.items[index]
        return self.transform(load_image(path, size=None)), label
