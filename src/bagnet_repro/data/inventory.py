"""List the images of the data set with their checksums: a 15-scene copy in either known layout, or a user's own
image folder (``folder.py``).

Course layout: ``train/<Class>/*`` and ``test/<Class>/*``. Original layout: ``scene_categories/<name>/*``
(or the category folders at the top), which has no train/test division; the course's protocol of 100
training images per class is drawn per class with a seed.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..config.classes import IMAGE_SUFFIXES, REPORT_CLASSES, SCENE_CATEGORIES_TO_REPORT
from ..errors import UserError
from ..files.atomic import atomic_path, sha256_file

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageRecord:
    split: str
    label: str
    path: str
    sha256: str = ""


def hidden(path: Path) -> bool:
    """A hidden file or folder: ``.DS_Store``, macOS's AppleDouble ``._photo.jpg`` (not an image, whatever its
    suffix), ``.git``; never read as data."""
    return path.name.startswith(".")


def images_in(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not hidden(p) and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(f"empty class folder (no images): {folder}")
    return files


def _find_root(root: Path) -> tuple[str, Path]:
    """Return the layout name and the folder holding it; look one level down for a wrapping folder."""
    candidates = [root] + sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for candidate in candidates:
        if (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return "course", candidate
        if (candidate / "scene_categories").is_dir():
            return "scene_categories", candidate / "scene_categories"
        if any((candidate / name).is_dir() for name in SCENE_CATEGORIES_TO_REPORT):
            return "scene_categories", candidate
    raise UserError(
        f"no 15-scene layout found in {root}: expected train/<Class>/ and test/<Class>/ or scene_categories/<category>/"
    )


def _check_classes(found: set[str], where: Path) -> None:
    missing = sorted(set(REPORT_CLASSES) - found)
    unknown = sorted(found - set(REPORT_CLASSES))
    if unknown:
        raise UserError(f"unknown class folder(s) in {where}: {', '.join(unknown)}")
    if missing:
        raise UserError(f"missing class folder(s) in {where}: {', '.join(missing)}")


def _course_records(base: Path) -> list[ImageRecord]:
    records = []
    for split in ("train", "test"):
        folders = sorted(p for p in (base / split).iterdir() if p.is_dir())
        _check_classes({p.name for p in folders}, base / split)
        for folder in folders:
            records += [ImageRecord(split, folder.name, str(f)) for f in images_in(folder)]
    return records


def _scene_categories_records(base: Path, train_per_class: int, seed: int) -> list[ImageRecord]:
    folders = sorted(p for p in base.iterdir() if p.is_dir() and p.name in SCENE_CATEGORIES_TO_REPORT)
    _check_classes({SCENE_CATEGORIES_TO_REPORT[p.name] for p in folders}, base)
    rng = np.random.default_rng(seed)
    records = []
    for folder in folders:
        label = SCENE_CATEGORIES_TO_REPORT[folder.name]
        files = images_in(folder)
        if len(files) <= train_per_class:
            raise UserError(
                f"{folder} has {len(files)} images; need more than {train_per_class} "
                f"(split.course_train_per_class) to leave a test set"
            )
        train_idx = set(rng.choice(len(files), size=train_per_class, replace=False).tolist())
        records += [ImageRecord("train" if i in train_idx else "test", label, str(f)) for i, f in enumerate(files)]
    return records


def _decode_problem(path: str) -> str | None:
    """Why ``path`` does not decode as an image (every pixel is read), or None."""
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _check_decodes(records: list[ImageRecord]) -> None:
    """Decode every listed image now, so a corrupt one stops the data step, not a job hours later."""
    bad = [
        (r.path, problem)
        for r in tqdm(records, desc="decode", unit="img", mininterval=1.0)
        if (problem := _decode_problem(r.path))
    ]
    if bad:
        shown = "; ".join(f"{path} ({problem})" for path, problem in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise UserError(f"{len(bad)} image(s) do not decode: {shown}{more}")


def build_inventory(root: str | os.PathLike, course_train_per_class: int = 100, seed: int = 0) -> list[ImageRecord]:
    """List every image of the 15-scene copy at ``root`` with course split, report class name and sha256; every
    image must decode."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"data directory not found: {root}")
    layout, base = _find_root(root)
    if layout == "course":
        records = _course_records(base)
    else:
        records = _scene_categories_records(base, course_train_per_class, seed)
    return checked_inventory(records)


def checked_inventory(records: list[ImageRecord]) -> list[ImageRecord]:
    """``records`` with their sha256, once every image is known to decode."""
    _check_decodes(records)
    return [
        ImageRecord(r.split, r.label, r.path, sha256_file(r.path))
        for r in tqdm(records, desc="checksums", unit="img", mininterval=1.0)
    ]


def write_records(records: list[ImageRecord], path: str | os.PathLike, split_column: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow((split_column, "class", "path", "sha256"))
        for r in records:
            writer.writerow((r.split, r.label, r.path, r.sha256))


def read_records(path: str | os.PathLike) -> list[ImageRecord]:
    """Read an inventory or manifest TSV (first column is the split), each row checked as it is read: four
    fields, a split, a class and a path, and a sha256 of 64 hex digits (a row that is not is one line naming the
    file, the line and the field)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"file not found: {path}")
    with open(path, newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header is None or header[1:] != ["class", "path", "sha256"]:
            raise UserError(f"{path}: expected columns <split>, class, path, sha256")
        return [_checked_row(path, reader.line_num, row) for row in reader]


def _checked_row(path: Path, line: int, row: list[str]) -> ImageRecord:
    advice = "rerun the data step that wrote it (delete it first)"
    if len(row) != 4:
        raise UserError(f"{path}, line {line}: {len(row)} fields, not 4 (split, class, path, sha256); {advice}")
    for field, value in zip(("split", "class", "path"), row, strict=False):
        if not value:
            raise UserError(f"{path}, line {line}: field '{field}' is empty; {advice}")
    if not _SHA256.fullmatch(row[3]):
        raise UserError(f"{path}, line {line}: field 'sha256' is {row[3]!r}, not 64 hex digits; {advice}")
    return ImageRecord(*row)
