"""ImageNet and Imagenette for BagNet pretraining: validation folders and the 95/5 hold-out split.

ImageNet's validation images come flat, with their classes in LOC_val_solution.csv (the class is the first
token of PredictionString, a WNID). ``prepare_val`` moves each image into a folder per WNID; it can be
rerun at any point (already moved images are found where they went). ``holdout_split`` draws the
stratified 95/5 split of the training images (seed 42, as BagNets-v2), listing the hold-out as ``val``.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

from sklearn.model_selection import train_test_split

from ..errors import UserError
from ..files.atomic import write_table_atomic

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
SPLIT_COLUMNS = ("split", "class", "path")  # the hold-out split table (read by data.streaming)


def read_val_solution(solution_csv: str | os.PathLike) -> dict[str, str]:
    """ImageId -> WNID from LOC_val_solution.csv."""
    path = Path(solution_csv)
    if not path.is_file():
        raise UserError(f"ImageNet validation labels not found: {path}")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"ImageId", "PredictionString"} <= set(reader.fieldnames):
            raise UserError(f"{path}: expected columns ImageId and PredictionString")
        labels = {}
        for line, row in enumerate(reader, start=2):
            tokens = row["PredictionString"].split()
            if not tokens or not tokens[0].startswith("n"):
                raise UserError(f"{path}:{line}: PredictionString does not start with a WNID")
            labels[row["ImageId"]] = tokens[0]
    return labels


def prepare_val(val_dir: str | os.PathLike, solution_csv: str | os.PathLike) -> dict[str, int]:
    """Move ``<ImageId>.JPEG`` into ``<val_dir>/<WNID>/``; idempotent. Returns images per WNID."""
    root = Path(val_dir)
    if not root.is_dir():
        raise UserError(f"ImageNet validation folder not found: {root}")
    labels = read_val_solution(solution_csv)
    moved = 0
    for image_id, wnid in sorted(labels.items()):
        target = root / wnid / f"{image_id}.JPEG"
        if target.is_file():
            continue
        source = root / f"{image_id}.JPEG"
        if not source.is_file():
            raise UserError(
                f"{source.name} is listed in {Path(solution_csv).name} but is in neither {root} nor {target.parent}"
            )
        target.parent.mkdir(exist_ok=True)
        os.replace(source, target)
        moved += 1
    print(f"moved {moved} of {len(labels)} validation images into class folders", flush=True)
    return dict(Counter(labels.values()))


def list_class_folders(root: str | os.PathLike) -> list[tuple[str, str]]:
    """(class folder name, image path) for every image under ``root/<class>/``, sorted."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"image folder not found: {root}")
    items = [
        (folder.name, str(image))
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
        for image in sorted(folder.iterdir())
        if image.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not items:
        raise UserError(f"{root} has no class folders with images")
    return items


def holdout_split(
    train_dir: str | os.PathLike, out: str | os.PathLike, holdout: float = 0.05, seed: int = 42
) -> dict[str, int]:
    """Stratified split of the training images: ``train`` and ``val`` (the hold-out) rows in a TSV."""
    items = list_class_folders(train_dir)
    labels = [label for label, _ in items]
    small = [label for label, count in Counter(labels).items() if count < 2]
    if small:
        raise UserError(f"classes with fewer than 2 images cannot be split: {', '.join(sorted(small)[:5])}")
    try:
        train, val = train_test_split(items, test_size=holdout, random_state=seed, stratify=labels)
    except ValueError as exc:  # e.g. a hold-out smaller than the number of classes
        raise UserError(f"cannot split {train_dir} {1 - holdout:.0%}/{holdout:.0%} by class: {exc}") from None
    rows = [
        {"split": split, "class": label, "path": path}
        for split, part in (("train", train), ("val", val))
        for label, path in sorted(part)
    ]
    write_table_atomic(out, SPLIT_COLUMNS, rows)
    return {"train": len(train), "val": len(val), "classes": len(set(labels))}
