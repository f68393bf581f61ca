"""Snakemake's records of a run made in other folders, as this checkout would have written them: the exporting
run's and code's folders renamed to this one's, by whole path components only (a sibling folder whose name
merely begins like the run's, ``run_data`` beside ``run``, is left as the run read it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

# The folders whose files are the run's own outputs, never the checkout's sources.
PLACES_OF_OUTPUTS = ("results", "logs", "report")
# Characters that continue a path name: a folder matches only where none of them precedes or follows it.
_NAME_CHARS = r"\w.~+@%\-"


def _pattern(folder: str) -> re.Pattern:
    folder = folder.rstrip("/") or "/"
    return re.compile(rf"(?<![{_NAME_CHARS}/]){re.escape(folder)}(?=/|$|[^{_NAME_CHARS}])")


def relocated(value, moves: list[tuple[str, str]]):
    """``value`` with each folder ``old`` of ``moves`` replaced by ``new`` wherever it stands as a whole path
    (``old`` or ``old/...``) in a string; the longest folders first, and each place renamed once."""
    patterns = [(_pattern(old), new) for old, new in sorted(moves, key=lambda move: -len(move[0]))]

    def rename(text: str) -> str:
        if not patterns:
            return text
        combined = re.compile("|".join(f"(?P<m{i}>{p.pattern})" for i, (p, _) in enumerate(patterns)))

        def replacement(match: re.Match[str]) -> str:
            group = match.lastgroup
            assert group is not None  # each alternative is a named group m<i>, with no group inside it
            return patterns[int(group[1:])][1]

        return combined.sub(replacement, text)

    def walk(item):
        if isinstance(item, str):
            return rename(item)
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        return item

    return walk(value)


def _inputs_relocated(record: dict, provenance: dict, workdir: Path, project: Path) -> dict:
    """The record's relative inputs that name the exporting checkout's own files (a notebook, the report template:
    the rules give them relative to the working folder) as this checkout names them from its working folder, so
    that a run made in another folder than its code still has the same set of inputs here."""
    inputs = record.get("input")
    if not isinstance(inputs, list):
        return record
    old_work, old_code = Path(provenance["work_dir"]), Path(provenance["code_dir"])
    moved = []
    for name in inputs:
        if isinstance(name, str) and name and not os.path.isabs(name):
            resolved = Path(os.path.normpath(old_work / name))
            if resolved.is_relative_to(old_code):
                inside = resolved.relative_to(old_code)
                if inside.parts and inside.parts[0] not in PLACES_OF_OUTPUTS and (project / inside).is_file():
                    name = os.path.relpath(project / inside, workdir)
        moved.append(name)
    return {**record, "input": moved}


def _inputs_sorted(record: dict) -> dict:
    """Snakemake keeps a job's inputs sorted and compares the lists as they are: a renamed input (a notebook seen
    from another folder) can change its place, and an unsorted list would read as a changed set of inputs."""
    inputs = record.get("input")
    if isinstance(inputs, list) and all(isinstance(name, str) for name in inputs):
        return {**record, "input": sorted(inputs)}
    return record


def relocated_records(records: dict[str, dict], provenance: dict, workdir: Path, project: Path) -> dict[str, dict]:
    """The archive's records with the exporting run's folder renamed to ``workdir`` and its code's to
    ``project``."""
    moves = [(provenance["work_dir"], str(workdir)), (provenance["code_dir"], str(project))]
    return {
        key: _inputs_sorted(relocated(_inputs_relocated(record, provenance, workdir, project), moves))
        for key, record in records.items()
    }
