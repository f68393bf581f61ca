"""The study's data sets: torchvision's (CIFAR-10/100, MNIST, FashionMNIST, KMNIST) read from a local cache,
or a manifest of this workflow (the 15-scene or demo images), all as uint8 tensors of one size in memory.

Grey images are repeated to three channels and every image is resized to ``image_size`` (the study recipe's,
data_catalog.FEATURE_AMOUNT_IMAGE_SIZE). The torchvision sets are validated on their test split, as the study's
authors did.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torchvision.transforms.v2 import functional as F

from ..config.datasets import FEATURE_AMOUNT_MANIFEST, FEATURE_AMOUNT_TORCHVISION
from ..config.train_settings import BY_DATASET
from ..data.inventory import read_records
from ..data.loading import ImageSet, load_split, manifest_classes
from ..errors import UserError
from ..files.atomic import sha256_file, write_text_atomic

# The names live in config/datasets.py (torch-free, read by the Snakefile); these are their names here.
TORCHVISION_SETS = FEATURE_AMOUNT_TORCHVISION
MANIFEST_SETS = FEATURE_AMOUNT_MANIFEST
# The authors' training augmentation per data set (what the recipe's augment "by_dataset" becomes): CIFAR's
# pad-4 random crop and flip, nothing on the MNIST family; the workflow's own scenes are not theirs and get none.
STUDY_AUGMENTATION = {
    "cifar10": "pad_crop_flip",
    "cifar100": "pad_crop_flip",
    "mnist": "none",
    "fashionmnist": "none",
    "kmnist": "none",
    "scene15": "none",
}


def study_augmentation(name: str, augment: str) -> str:
    """The augmentation a run of data set ``name`` uses: the authors' for ``by_dataset``, else ``augment``."""
    return STUDY_AUGMENTATION.get(name, "none") if augment == BY_DATASET else augment


def _dataset_class(name: str):
    import torchvision.datasets

    if name not in TORCHVISION_SETS:
        raise UserError(
            f"unknown feature-amount data set {name!r}; choose one of: {', '.join([*TORCHVISION_SETS, *MANIFEST_SETS])}"
        )
    return getattr(torchvision.datasets, TORCHVISION_SETS[name])


def _open(name: str, root: str | os.PathLike, train: bool, download: bool = False):
    try:
        return _dataset_class(name)(root=str(root), train=train, download=download)
    except RuntimeError as exc:  # torchvision: "Dataset not found or corrupted..."
        raise UserError(f"{name} in {root}: {str(exc).splitlines()[0]}") from None


def fetch_dataset(name: str, root: str | os.PathLike, record_path: str | os.PathLike) -> dict:
    """Download ``name`` once into ``root`` (torchvision checks its files) and record every file's sha256:
    the record is the run's data key, so a changed cache is never resumed into."""
    for train in (True, False):
        _open(name, root, train, download=True)
    folder = Path(root)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and _belongs_to(name, p.relative_to(folder)))
    record = {
        "dataset": name,
        "root": str(folder.resolve()),
        "files": {p.relative_to(folder).as_posix(): sha256_file(p) for p in files},
    }
    write_text_atomic(record_path, json.dumps(record, indent=2) + "\n")
    return record


def _belongs_to(name: str, relative: Path) -> bool:
    top = relative.parts[0]
    if name.startswith("cifar"):
        return top.startswith("cifar-10-batches" if name == "cifar10" else "cifar-100-python")
    return top == TORCHVISION_SETS[name] and not relative.name.endswith((".gz", ".tar.gz"))


def _as_images(data, image_size: int) -> torch.Tensor:
    images = torch.as_tensor(data)
    if images.dim() == 3:  # N x H x W grey
        images = images.unsqueeze(1).repeat(1, 3, 1, 1)
    elif images.shape[-1] == 3:  # N x H x W x 3 (CIFAR)
        images = images.permute(0, 3, 1, 2)
    images = images.contiguous()
    if images.shape[-1] != image_size or images.shape[-2] != image_size:
        images = F.resize(images, [image_size, image_size], antialias=True)
    return images


def _torchvision_split(name: str, root: str, train: bool, image_size: int) -> tuple[ImageSet, int]:
    dataset = _open(name, root, train)
    images = _as_images(dataset.data, image_size)
    labels = torch.as_tensor(dataset.targets, dtype=torch.long)
    keys = [f"{name}/{'train' if train else 'test'}/{i}" for i in range(len(labels))]
    return ImageSet(images, labels, keys, keys), len(dataset.classes)


def load_study_data(name: str, data_file: str, image_size: int) -> tuple[ImageSet, ImageSet, int]:
    """(train, validation, number of classes) of ``name``. ``data_file`` is the manifest (scene15: the
    workflow's own data, 15-scene or demo) or the record ``fetch_dataset`` wrote (its ``root`` is the cache)."""
    if name in MANIFEST_SETS:
        manifest = read_records(data_file)
        classes = len(manifest_classes(manifest))
        return load_split(manifest, "train", image_size), load_split(manifest, "val", image_size), classes
    try:
        root = json.loads(Path(data_file).read_text())["root"]
    except (OSError, ValueError, KeyError):
        raise UserError(f"{data_file} is not a data record of feature-amount-data") from None
    train, classes = _torchvision_split(name, root, True, image_size)
    val, _ = _torchvision_split(name, root, False, image_size)
    return train, val, classes
