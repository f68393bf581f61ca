"""The digest of the package's code, recorded by every result, so that a result made by other code shows.

Snakemake reruns a job when its rule's text changes, not when the package code it calls does: a fix in
``evaluation/`` leaves old predictions standing. Each result therefore records ``code_sha256`` (a JSON key, or a
column of a CSV/TSV table), and the report's provenance names every result whose record differs from the code
now installed. The digest covers the contents of ``src/bagnet_repro/**/*.py`` in order of their relative paths:
a docstring counts, a ``__pycache__`` or a moved checkout does not. It is torch-free, so that planning can put it
in the rules' params (the opt-in rerun on code changes, docs/environments.md).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # the whole bagnet_repro package
KEY = "code_sha256"


def digest_of(package: Path) -> str:
    """sha256 over (relative path, contents) of every .py file under ``package``, sorted by relative path."""
    total = hashlib.sha256()
    for path in sorted(package.rglob("*.py"), key=lambda p: p.relative_to(package).as_posix()):
        relative = path.relative_to(package).as_posix().encode()
        content = path.read_bytes()
        total.update(b"%d:%s%d:" % (len(relative), relative, len(content)))
        total.update(content)
    return total.hexdigest()


@functools.cache
def code_sha256() -> str:
    """The digest of the code this process runs (computed once per process)."""
    return digest_of(PACKAGE)


def recorded_code(path: str | Path) -> set[str] | None:
    """The code digests a result records (a table's column may hold several: a resumed run spanning a change),
    or None when the file records none (made before results recorded it, or a kind that does not)."""
    path = Path(path)
    try:
        if path.suffix == ".json":
            value = json.loads(path.read_text()).get(KEY)
            return {value} if value else None
        if path.suffix in (".csv", ".tsv"):
            with open(path, newline="") as handle:
                rows = csv.DictReader(handle, delimiter="\t" if path.suffix == ".tsv" else ",")
                if KEY not in (rows.fieldnames or ()):
                    return None
                return {row[KEY] for row in rows if row[KEY]} or None
    except (OSError, ValueError, AttributeError):
        return None
    return None


def code_check(results: Sequence[str | Path], current: str | None = None) -> dict:
    """The current digest, the results made by other code, and those that record none."""
    current = current or code_sha256()
    other, unrecorded = [], []
    for result in results:
        recorded = recorded_code(result)
        if recorded is None:
            unrecorded.append(str(result))
        elif recorded != {current}:
            other.append(str(result))
    return {
        "sha256": current,
        "other": other,
        "unrecorded": unrecorded,
        "summary": _summary(current, other, unrecorded, len(results)),
    }


def _summary(current: str, other: list[str], unrecorded: list[str], count: int) -> str:
    words = f"{current[:16]}...; "
    if not other and not unrecorded:
        return words + f"all {count} results checked were made by this code"
    parts = []
    if other:
        parts.append(f"{len(other)} of {count} results were made by other code: {', '.join(other)}")
    if unrecorded:
        parts.append(f"{len(unrecorded)} record no code digest: {', '.join(unrecorded)}")
    return words + "; ".join(parts)


def main() -> int:
    """``python -m bagnet_repro.files.code_digest``: print the digest (for the opt-in rerun on code changes)."""
    print(code_sha256())
    return 0


if __name__ == "__main__":
    sys.exit(main())
