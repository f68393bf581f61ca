"""The run's classes and how many images each has in each split, read from the split's manifest: the table the
HTML report's front page shows (its Jinja template cannot read the run's files, docutils' csv-table can) and the
counts the PDF's data paragraph quotes (``values.split_values``).

Run by rule ``class_counts`` as ``python -m bagnet_repro.paper.class_counts --manifest ... --out ...`` (its
options are the signature of ``write_class_counts``, read by tyro as the declared stages' are)."""

from __future__ import annotations

import pandas as pd

from ..errors import UserError

SPLITS = ("train", "val", "test")
ALL_CLASSES = "all classes"  # the last row: the split's totals


def class_counts(manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per class (sorted by name) with its images in train, val and test and their sum, then the totals."""
    table = pd.crosstab(manifest["class"], manifest["split"]).reindex(columns=list(SPLITS), fill_value=0)
    table = table.sort_index()
    table["images"] = table.sum(axis=1)
    totals = table.sum().rename(ALL_CLASSES).to_frame().T
    counted = pd.concat([table, totals]).rename_axis("class").reset_index()
    return counted.astype({column: int for column in (*SPLITS, "images")})


def read_manifest(path: str) -> pd.DataFrame:
    """The split's manifest as text (a class named ``1`` or ``NA`` stays that name); one without its class or
    split column is a UserError naming the file."""
    try:
        manifest = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"cannot read the split's manifest {path}: {exc}") from None
    missing = [column for column in ("class", "split") if column not in manifest.columns]
    if missing:
        raise UserError(f"{path}: the split's manifest has no {' or '.join(missing)} column")
    return manifest


def write_class_counts(manifest: str, out: str) -> None:
    """The run's classes with their images per split, as a CSV table for the reports.

    Args:
        manifest: the split's manifest (TSV with class and split columns), e.g. results/data/manifest.tsv
        out: output CSV: class, train, val, test, images; the last row (all classes) the totals
    """
    from ..files.atomic import write_table_atomic

    table = class_counts(read_manifest(manifest))
    write_table_atomic(out, list(table.columns), table.to_dict("records"), delimiter=",")
