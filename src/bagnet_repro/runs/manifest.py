"""What a run archive may hold and how each file is described: its places, its manifest (sha256, size and
time of every file) and the provenance of the run that made it."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path

MANIFEST_NAME = "bagnet-run.json"  # the archive's first member
FORMAT = "bagnet-repro run archive 1"
# The only places an archive writes: the run's results and logs, and the rendered parts of report/ (never the
# report's sources, the code, the config or .git).
PLACES = ("results/", "logs/", "report/tables/", "report/figures/", "report/paper.pdf")
# Never exported, even where a rule names them: downloads, resume checkpoints (data folders are directory
# outputs, left out as such).
LEFT_OUT = ("results/downloads/", "results/checkpoints/")
WEIGHT_SUFFIXES = (".pt", ".pth")


def in_places(name: str) -> bool:
    return any(name == place or (place.endswith("/") and name.startswith(place)) for place in PLACES)


def travels(name: str, weights: bool) -> bool:
    """Whether an output or log of the workflow goes into an export."""
    if not in_places(name) or name.startswith(LEFT_OUT):
        return False
    return weights or not name.endswith(WEIGHT_SUFFIXES)


def sha256_of(path: str | os.PathLike, progress=None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if progress is not None:
                progress.update(len(chunk))
    return digest.hexdigest()


def file_entry(workdir: Path, name: str, progress=None) -> dict:
    info = (workdir / name).stat()
    return {
        "path": name,
        "size": info.st_size,
        "sha256": sha256_of(workdir / name, progress),
        "mtime_ns": info.st_mtime_ns,
    }


def git_commit(project: Path) -> str:
    from ..paper.provenance import git_state

    return git_state(project)


def run_provenance(project: Path, workdir: Path, config: dict, snakemake_version: str) -> dict:
    """Commit, resolved config, data manifest digest, package versions and devices of the exported run."""
    import torch

    from ..paper.provenance import package_versions

    manifest = workdir / "results/data/manifest.tsv"
    devices = (
        [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    )
    return {
        "commit": git_commit(project),
        "config": config,
        "data_manifest_sha256": sha256_of(manifest) if manifest.is_file() else None,
        "packages": package_versions(snakemake_version),
        "devices": {"config": config.get("compute", {}).get("device"), "exporting_machine": devices or ["cpu"]},
        "code_dir": str(project),
        "work_dir": str(workdir),
        "exported": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def config_differences(a, b, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two resolved configs."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for key in keys for d in config_differences(a.get(key), b.get(key), f"{prefix}{key}.")]
    return [] if a == b else [prefix.rstrip(".")]


def dumps(manifest: dict) -> bytes:
    return json.dumps(manifest, indent=1, sort_keys=True).encode()
