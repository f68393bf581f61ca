"""One entry of Snakemake's HTML report: an output file with its caption, category and labels.

Imported by the rule files alone (Snakemake is there); the jobs never read it."""

from __future__ import annotations

CAPTIONS = "../report/captions"  # from workflow/rules/, where Snakemake resolves a rule's caption


def report_entry(
    path: str, caption: str, category: str, name: str | None = None, kind: str | None = None, **labels: str
) -> object:
    """``path`` in the report under ``category``, described by captions/``caption``.rst and labelled with
    its ``name`` and ``kind`` (table, figure, ...) or, for one of a set, the given ``labels`` (e.g. model)."""
    from snakemake.io import report

    shown = {"name": name, "type": kind} if name is not None else dict(labels)
    return report(path, caption=f"{CAPTIONS}/{caption}.rst", category=category, labels=shown)
