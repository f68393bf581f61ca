"""Whether a Snakemake run is going in a working folder: its lock files in ``.snakemake/locks`` and a live
Snakemake process working in that folder. A lock left by a killed run (no such process) is not a run going."""

from __future__ import annotations

import os
from pathlib import Path


def _snakemake_processes_in(workdir: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or another user's
            continue
        if cwd == workdir and any(b"snakemake" in os.path.basename(part) for part in command[:3]):
            found.append(int(entry.name))
    return sorted(found)


def running_snakemake(workdir: Path) -> int | None:
    """The process id of a live Snakemake that holds ``workdir``'s lock, or None."""
    locks = workdir / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.glob("*.lock")):
        return None
    if not Path("/proc/self").is_dir():  # no process table to look at: a lock is taken as held
        return -1
    processes = _snakemake_processes_in(workdir.resolve())
    return processes[0] if processes else None
