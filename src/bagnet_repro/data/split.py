"""The splits: the report's (80/20 train/val per class from the course training images, 80 test images per class),
drawn with a seed (stratified, scikit-learn) or read from a ``split_file`` that lists the exact files; or a user's
folder's, by its own train/val/test folders or drawn from its pool by the configured fractions.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ..config.datasets import FOLDER_POOL
from ..errors import UserError
from .inventory import ImageRecord

SPLIT_FILE_NAMES = {
    "training": "train",
    "train": "train",
    "validation": "val",
    "val": "val",
    "test1": "test",
    "test": "test",
}
SPLITS = ("train", "val", "test")


def _by_class(records: list[ImageRecord]) -> dict[str, list[ImageRecord]]:
    grouped: dict[str, list[ImageRecord]] = defaultdict(list)
    for record in records:
        grouped[record.label].append(record)
    return grouped


def seeded_split(
    inventory: list[ImageRecord], val_fraction: float, test_per_class: int, seed: int
) -> list[ImageRecord]:
    """Stratified train/val from course-train images; ``test_per_class`` images per class from course-test."""
    course_train = [r for r in inventory if r.split == "train"]
    course_test = [r for r in inventory if r.split == "test"]
    labels = [r.label for r in course_train]
    try:
        train, val = train_test_split(course_train, test_size=val_fraction, stratify=labels, random_state=seed)
    except ValueError as exc:  # too few images for a stratified split: one line with the numbers
        counts = {label: len(items) for label, items in _by_class(course_train).items()}
        fewest = min(counts, key=lambda label: counts[label]) if counts else "-"
        raise UserError(
            f"cannot split {len(course_train)} course-train images into train and val by class "
            f"(split.val_fraction {val_fraction}; fewest: {counts.get(fewest, 0)} in {fewest}): "
            f"{exc}"
        ) from None
    rng = np.random.default_rng(seed)
    test: list[ImageRecord] = []
    for label, items in sorted(_by_class(course_test).items()):
        if len(items) < test_per_class:
            raise UserError(
                f"class {label} has {len(items)} course-test images; split.test_per_class asks for {test_per_class}"
            )
        picked = rng.choice(len(items), size=test_per_class, replace=False)
        test += [items[i] for i in sorted(picked)]
    tagged = [ImageRecord("train", r.label, r.path, r.sha256) for r in train]
    tagged += [ImageRecord("val", r.label, r.path, r.sha256) for r in val]
    tagged += [ImageRecord("test", r.label, r.path, r.sha256) for r in test]
    return _ordered(tagged)


def _stratified(
    records: list[ImageRecord], fraction: float, seed: int, key: str
) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """Split ``records`` by class into (rest, held out) with ``fraction`` held out (config key ``key``); every class
    must keep at least one image on each side, else one line names the class's folder and its count."""
    labels = [r.label for r in records]
    counts = {label: len(items) for label, items in _by_class(records).items()}
    try:
        rest, held = train_test_split(records, test_size=fraction, stratify=labels, random_state=seed)
    except ValueError:
        rest, held = [], []
    for label, count in sorted(counts.items(), key=lambda item: (item[1], item[0])):
        if not any(r.label == label for r in held) or not any(r.label == label for r in rest):
            folder = Path(next(r.path for r in records if r.label == label)).parent
            raise UserError(
                f"class {label!r} ({folder}) has {count} image(s): too few for {key} {fraction} "
                f"of {len(records)} images in {len(counts)} classes (each class needs an image on each side)"
            )
    return rest, held


def folder_split(
    inventory: list[ImageRecord], val_fraction: float, test_fraction: float, seed: int
) -> list[ImageRecord]:
    """A user's folder: its own train/val/test where it has them; a pool split first into test
    (``test_fraction``), then the rest into train and val (``val_fraction``), stratified with ``seed``."""
    splits = {r.split for r in inventory}
    if FOLDER_POOL in splits:
        rest, test = _stratified(inventory, test_fraction, seed, "split.test_fraction")
    else:
        rest = [r for r in inventory if r.split == "train"]
        test = [r for r in inventory if r.split == "test"]
    if "val" in splits:
        train, val = rest, [r for r in inventory if r.split == "val"]
    else:
        train, val = _stratified(rest, val_fraction, seed, "split.val_fraction")
    tagged = [
        ImageRecord(split, r.label, r.path, r.sha256)
        for split, part in zip(SPLITS, (train, val, test), strict=True)
        for r in part
    ]
    return _ordered(tagged)


def course_folder(row: dict, split: str) -> str:
    """The folder (train or test) a split-file row's image is in: its course_split column, else test for
    test rows and train for the others."""
    return row.get("course_split") or ("test" if split == "test" else "train")


def split_from_file(inventory: list[ImageRecord], split_file: str | os.PathLike) -> list[ImageRecord]:
    """Reproduce the split listed in ``split_file`` (columns report_split, class, file[, course_split])."""
    split_file = Path(split_file)
    if not split_file.is_file():
        raise UserError(f"split_file not found: {split_file}")
    index: dict[tuple[str, str, str], ImageRecord] = {}
    for record in inventory:
        index[(record.split, record.label, Path(record.path).name)] = record
        index.setdefault(("*", record.label, Path(record.path).name), record)
    chosen = []
    with open(split_file, newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        needed = {"report_split", "class", "file"}
        if reader.fieldnames is None or not needed <= set(reader.fieldnames):
            raise UserError(f"{split_file}: expected columns report_split, class, file")
        for line, row in enumerate(reader, start=2):
            split = SPLIT_FILE_NAMES.get(row["report_split"])
            if split is None:
                raise UserError(f"{split_file}:{line}: unknown report_split {row['report_split']!r}")
            course = course_folder(row, split)
            found = index.get((course, row["class"], row["file"]))
            if found is None:
                raise UserError(f"{split_file}:{line}: {course}/{row['class']}/{row['file']} is not in the data")
            chosen.append(ImageRecord(split, found.label, found.path, found.sha256))
    if len({r.path for r in chosen}) != len(chosen):
        raise UserError(f"{split_file}: lists the same image more than once")
    return _ordered(chosen)


def _ordered(records: list[ImageRecord]) -> list[ImageRecord]:
    return sorted(records, key=lambda r: (SPLITS.index(r.split), r.label, r.path))
