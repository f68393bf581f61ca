"""The report's splits: 80/20 train/val per class from the course training images, 80 test images per class.

Either drawn with a seed (stratified, scikit-learn) or read from a ``split_file`` that lists the exact files.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

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
        fewest = min(counts, key=counts.get) if counts else "-"
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
            record = index.get((course, row["class"], row["file"]))
            if record is None:
                raise UserError(f"{split_file}:{line}: {course}/{row['class']}/{row['file']} is not in the data")
            chosen.append(ImageRecord(split, record.label, record.path, record.sha256))
    if len({r.path for r in chosen}) != len(chosen):
        raise UserError(f"{split_file}: lists the same image more than once")
    return _ordered(chosen)


def _ordered(records: list[ImageRecord]) -> list[ImageRecord]:
    return sorted(records, key=lambda r: (SPLITS.index(r.split), r.label, r.path))
