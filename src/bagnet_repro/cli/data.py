"""The data stage: demo data, verified download, safe extraction, inventory, split and duplicate audit."""

from __future__ import annotations

import json
import os
from typing import Annotated, Literal

import tyro

from ..errors import UserError
from .arguments import at_least, between_0_and_1
from .stages import Stage

# The data set's kinds (config data.source: demo, url and local are the 15-scene layouts; folder is the user's own).
Layout = Literal["scene15", "folder"]
# An option given once per value (``--archive a --archive b``); a repeat adds to the list, never replaces it.
Repeated = Annotated[list[str], tyro.conf.UseAppendAction]


def make_demo_data(out: str, train_per_class: int, test_per_class: int, width: int, height: int, seed: int) -> None:
    """Write the synthetic 15-class demo dataset.

    Args:
        out: output folder: train/<class>/ and test/<class>/ images
        train_per_class: training images per class, at least 2
        test_per_class: test images per class, at least 1
        width: image width (px), at least 16
        height: image height (px), at least 16
        seed: seed of the images' drawing
    """
    from ..data.demo import make_demo_data as write_demo_data

    for name, value, minimum in (
        ("--train-per-class", train_per_class, 2),
        ("--test-per-class", test_per_class, 1),
        ("--width", width, 16),
        ("--height", height, 16),
        ("--seed", seed, 0),
    ):
        at_least(name, value, minimum)
    write_demo_data(
        out=out,
        train_per_class=train_per_class,
        test_per_class=test_per_class,
        width=width,
        height=height,
        seed=seed,
    )


def download(
    url: str,
    sha256: str,
    out: str,
    retries: int,
    md5: str = "",
    timeout: float = 60.0,
    store: str | None = None,
) -> None:
    """Download a file, verify its sha256, then move it into place.

    Args:
        url: the file's address
        sha256: expected digest; an empty string skips the check
        out: output: the verified file
        retries: attempts before giving up, at least 1
        md5: expected md5, for archives published with one only
        timeout: seconds without data before a retry
        store: folder that keeps each verified download (and its .part) across reruns
    """
    from ..data.download import download as fetch

    at_least("--retries", retries, 1)
    if not timeout > 0:
        raise UserError(f"--timeout must be more than 0 seconds, got {timeout}")
    fetch(url=url, dest=out, sha256=sha256, retries=retries, timeout=timeout, md5=md5 or None, store=store)


def extract(archive: Repeated, out: str) -> None:
    """Safely extract one or more archives into a directory.

    Args:
        archive: an archive to extract (repeat the option per archive)
        out: output folder the archives' files go into
    """
    from ..data.extract import extract_archives

    if not archive:
        raise UserError("extract needs at least one --archive")
    archives: list[str | os.PathLike] = list(archive)
    extract_archives(archives=archives, dest=out)


def inventory(root: str, out: str, course_train_per_class: int, seed: int, layout: Layout = "scene15") -> None:
    """List the images of the data set with their sha256.

    Args:
        root: the data set's folder
        out: output TSV: every image with its class, sha256 and course (or folder) split
        course_train_per_class: 15-scene: training images per class of the course protocol, at least 2
        seed: seed of the course protocol's draw
        layout: scene15: the 15-scene layouts (or the demo); folder: one sub-folder per class, pre-split or one pool
    """
    from ..data.folder import folder_inventory
    from ..data.inventory import build_inventory, write_records

    at_least("--course-train-per-class", course_train_per_class, 2)
    at_least("--seed", seed, 0)
    if layout == "folder":
        records = folder_inventory(root)
    else:
        records = build_inventory(root=root, course_train_per_class=course_train_per_class, seed=seed)
    write_records(records, path=out, split_column="course_split" if layout == "scene15" else "folder_split")
    print(f"{len(records)} images listed in {out}")


def split(
    inventory: str,
    out: str,
    val_fraction: float,
    test_per_class: int,
    seed: int,
    split_file: str | None = None,
    test_fraction: float | None = None,
    layout: Layout = "scene15",
) -> None:
    """Draw (or read) the train/val/test split and write the manifest.

    Args:
        inventory: the inventory's TSV
        out: output TSV: the manifest, every image with its split
        val_fraction: the share of each class's training images held out for validation
        test_per_class: 15-scene: test images per class, at least 1
        seed: seed of the split's draw
        split_file: a file listing the report's images per split (config data.split_file), read instead of drawing
        test_fraction: folder pool: the share of each class tested
        layout: scene15: the 15-scene layouts (or the demo); folder: one sub-folder per class, pre-split or one pool
    """
    from collections import Counter

    from ..data.inventory import read_records, write_records
    from ..data.split import folder_split, seeded_split, split_from_file

    between_0_and_1("--val-fraction", val_fraction)
    if test_fraction is not None:
        between_0_and_1("--test-fraction", test_fraction)
    at_least("--test-per-class", test_per_class, 1)
    at_least("--seed", seed, 0)
    records = read_records(inventory)
    if layout == "folder":
        if test_fraction is None:
            raise UserError("split --layout folder needs --test-fraction (config split.test_fraction)")
        if split_file:
            raise UserError("data.split_file lists the 15-scene report's images; a folder data set is split by its own")
        manifest = folder_split(records, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
    elif split_file:
        manifest = split_from_file(records, split_file=split_file)
    else:
        manifest = seeded_split(records, val_fraction=val_fraction, test_per_class=test_per_class, seed=seed)
    write_records(manifest, path=out, split_column="split")
    print(dict(Counter(r.split for r in manifest)))


def audit(inventory: str, manifest: str, out_table: str, out_summary: str) -> None:
    """Report byte-identical images within and across splits.

    Args:
        inventory: the inventory's TSV
        manifest: the split's manifest TSV
        out_table: output TSV: every pair of byte-identical images with their splits
        out_summary: output JSON: the pairs' counts
    """
    from ..data.audit import duplicate_pairs, write_audit
    from ..data.inventory import read_records

    pairs = duplicate_pairs(inventory=read_records(inventory), manifest=read_records(manifest))
    print(json.dumps(write_audit(pairs, table_path=out_table, summary_path=out_summary)))


STAGES = (
    Stage("make-demo-data", make_demo_data),
    Stage("download", download),
    Stage("extract", extract),
    Stage("inventory", inventory),
    Stage("split", split),
    Stage("audit", audit),
)
