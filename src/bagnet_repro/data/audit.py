"""Byte-identical images within and across splits (the course data has 18 such pairs, 11 across train/test)."""

from __future__ import annotations

import itertools
import json
import os
from collections import defaultdict

from ..files.atomic import write_table_atomic, write_text_atomic
from .inventory import ImageRecord

AUDIT_COLUMNS = (
    "sha256",
    "class_a",
    "path_a",
    "course_split_a",
    "split_a",
    "class_b",
    "path_b",
    "course_split_b",
    "split_b",
    "scope",
)


def duplicate_pairs(inventory: list[ImageRecord], manifest: list[ImageRecord]) -> list[dict]:
    """Every pair of inventory images with equal sha256, labelled with course and final splits."""
    final_split = {r.path: r.split for r in manifest}
    groups: dict[str, list[ImageRecord]] = defaultdict(list)
    for record in inventory:
        groups[record.sha256].append(record)
    pairs = []
    for digest, group in sorted(groups.items()):
        for a, b in itertools.combinations(sorted(group, key=lambda r: r.path), 2):
            fa, fb = final_split.get(a.path, "-"), final_split.get(b.path, "-")
            if "-" in (fa, fb):
                scope = "unused"
            else:
                scope = "within_final_split" if fa == fb else "across_final_splits"
            pairs.append(
                {
                    "sha256": digest,
                    "class_a": a.label,
                    "path_a": a.path,
                    "course_split_a": a.split,
                    "split_a": fa,
                    "class_b": b.label,
                    "path_b": b.path,
                    "course_split_b": b.split,
                    "split_b": fb,
                    "scope": scope,
                }
            )
    return pairs


def summarize(pairs: list[dict]) -> dict:
    return {
        "duplicate_pairs": len(pairs),
        "across_course_splits": sum(p["course_split_a"] != p["course_split_b"] for p in pairs),
        "within_course_splits": sum(p["course_split_a"] == p["course_split_b"] for p in pairs),
        "across_final_splits": sum(p["scope"] == "across_final_splits" for p in pairs),
        "within_final_splits": sum(p["scope"] == "within_final_split" for p in pairs),
        "with_different_classes": sum(p["class_a"] != p["class_b"] for p in pairs),
    }


def write_audit(pairs: list[dict], table_path: str | os.PathLike, summary_path: str | os.PathLike) -> dict:
    write_table_atomic(table_path, AUDIT_COLUMNS, pairs)
    summary = summarize(pairs)
    write_text_atomic(summary_path, json.dumps(summary, indent=2) + "\n")
    return summary
