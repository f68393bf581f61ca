"""A user's own image folder as the data set: one sub-folder per class, any count from 2 up.

Either already split (``train/``, ``test/`` and optionally ``val/``, each with the same class folders) or one pool
of class folders that the split step divides by the configured fractions. The class names are the folder names as
they are (spaces, capitals, any letters): the manifest records them and everything downstream reads them there.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..config.classes import IMAGE_SUFFIXES
from ..config.datasets import FOLDER_POOL
from ..errors import UserError, one_line
from .inventory import ImageRecord, checked_inventory, hidden, images_in

FOLDER_SPLITS = ("train", "val", "test")


def _class_folders(where: Path) -> list[Path]:
    """The class folders in ``where`` (hidden ones skipped), each name usable in a TSV row."""
    folders = sorted(p for p in where.iterdir() if p.is_dir() and not hidden(p))
    for folder in folders:
        if "\t" in folder.name or "\n" in folder.name or "\r" in folder.name:
            raise UserError(f"class folder name holds a tab or line break: {folder!s}")
    return folders


def _holds_images(folder: Path) -> bool:
    return any(p.is_file() and not hidden(p) and p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def _check_class_count(classes: list[str], where: Path) -> None:
    if not classes:
        raise UserError(f"no class folders in {where}: expected one sub-folder of images per class")
    if len(classes) < 2:
        raise UserError(f"only one class folder in {where} ({classes[0]}): a classifier needs at least 2 classes")


def folder_division(root: Path) -> str:
    """``split`` when ``root`` holds train/ and test/ (its own division), else ``pool``. A folder named like a
    split that holds images itself is a class of a pool (a split holds class folders, never images)."""
    present = [name for name in FOLDER_SPLITS if (root / name).is_dir()]
    as_classes = [name for name in present if _holds_images(root / name)]
    if present and as_classes == present:
        return "pool"
    if as_classes:
        splits = ", ".join(f"{name}/" for name in present if name not in as_classes)
        raise UserError(
            f"{root}: {', '.join(f'{name}/' for name in as_classes)} holds images, as a class folder does, while "
            f"{splits} holds folders, as a split does; rename the class, or move its images into class folders"
        )
    if "train" in present and "test" in present:
        return "split"
    if present:
        shown = ", ".join(f"{name}/" for name in present)
        raise UserError(
            f"{root} holds {shown} but not both train/ and test/ (read as a split, as {shown} holds class folders, "
            "not images): give both (val/ is optional), or put the class folders at the top for the workflow to "
            "split"
        )
    return "pool"


def _split_records(root: Path) -> list[ImageRecord]:
    splits = [name for name in FOLDER_SPLITS if (root / name).is_dir()]
    folders = {split: _class_folders(root / split) for split in splits}
    train_classes = [p.name for p in folders["train"]]
    _check_class_count(train_classes, root / "train")
    for split in splits[1:]:
        classes = [p.name for p in folders[split]]
        if classes != train_classes:
            only_train = sorted(set(train_classes) - set(classes))
            only_here = sorted(set(classes) - set(train_classes))
            parts = [f"only in train/: {', '.join(only_train)}"] * bool(only_train)
            parts += [f"only in {split}/: {', '.join(only_here)}"] * bool(only_here)
            raise UserError(f"classes differ between {root / 'train'} and {root / split} ({'; '.join(parts)})")
    return [
        ImageRecord(split, folder.name, str(image))
        for split in splits
        for folder in folders[split]
        for image in images_in(folder)
    ]


def _pool_records(root: Path) -> list[ImageRecord]:
    folders = _class_folders(root)
    _check_class_count([p.name for p in folders], root)
    return [ImageRecord(FOLDER_POOL, folder.name, str(image)) for folder in folders for image in images_in(folder)]


def _say_skipped(records: list[ImageRecord], root: Path, division: str) -> None:
    """Name, on stderr, what the data set leaves out, so nothing is left out silently: files of the class
    folders not of an image suffix (one line), hidden and AppleDouble files (a count), and entries beside the
    class folders (or beside train/, val/ and test/) that are not read (one line)."""
    folders = {Path(r.path).parent for r in records}
    entries = [p for folder in folders for p in folder.iterdir()]
    skipped = sorted(p for p in entries if p.is_file() and not hidden(p) and p.suffix.lower() not in IMAGE_SUFFIXES)
    if skipped:
        warn(
            f"{len(skipped)} file(s) in the class folders skipped, not of {', '.join(IMAGE_SUFFIXES)} "
            f"(first: {skipped[0]})"
        )
    splits = [root / name for name in FOLDER_SPLITS if (root / name).is_dir()] if division == "split" else []
    around = [p for folder in [root, *splits] for p in folder.iterdir()]  # class folders, splits and strays
    beside = sorted(p for p in around if p not in folders and p not in splits and not hidden(p))
    beside += sorted(p for p in entries if p.is_dir() and not hidden(p))  # folders inside a class folder
    if beside:
        shown = "class folders (nor train/, val/, test/)"
        warn(f"{len(beside)} entries that are not {shown} not read (first: {beside[0]})")
    hidden_ones = sorted(p for p in around + entries if hidden(p))
    if hidden_ones:
        warn(f"{len(hidden_ones)} hidden or macOS ._* file(s) skipped (first: {hidden_ones[0]})")


def warn(line: str) -> None:
    print(f"warning: {one_line(line)}", file=sys.stderr)


def folder_records(root: str | Path) -> list[ImageRecord]:
    """Every image of the folder data set at ``root``, with its class and its folder's split (or ``pool``)."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"data.folder not found (or not a folder): {root}")
    division = folder_division(root)
    records = _split_records(root) if division == "split" else _pool_records(root)
    _say_skipped(records, root, division)
    return records


def folder_inventory(root: str | Path) -> list[ImageRecord]:
    """``folder_records`` with their sha256, once every image is known to decode."""
    return checked_inventory(folder_records(root))
