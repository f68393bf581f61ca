"""Where a run's numbers come from: commit, code, config and data digests, package versions, machine, time."""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import torch

from ..compute.device import describe_device, resolve_device
from ..files.atomic import sha256_file
from ..files.code_digest import code_check

PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn")


def git_state(project: str | Path) -> str:
    """The checkout's commit, with "(modified)" when tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(project), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{commit} (modified)" if dirty else commit


def package_versions(snakemake_version: str) -> dict[str, str]:
    """Versions of the packages behind the numbers; Snakemake's comes from the workflow (jobs may run in
    conda environments without it)."""
    versions = {"snakemake": snakemake_version}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def config_digest(config: dict) -> str:
    """sha256 of the resolved config as canonical JSON: equal configs, equal digests, whatever the files."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def training_seconds(histories: list[str | Path]) -> float:
    """The summed epoch times of every training run (the ``seconds`` column of each history)."""
    import pandas as pd

    return float(sum(pd.read_csv(path)["seconds"].sum() for path in histories))


def study_results(table: str | Path) -> list[Path]:
    """The metrics and history of every job behind the feature-amount study's table (one row per variant and
    seed), where the study's rules write them: ``results/feature_amounts/<dataset>_depth<depth>/<variant>/
    seed<seed>/``, from the run folder that holds ``report/tables/``."""
    import csv

    run = Path(table).resolve().parents[2]
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    found = []
    for row in rows:
        folder = run / "results/feature_amounts" / f"{row['dataset']}_depth{row['depth']}" / row["model_id"]
        found += [folder / f"seed{row['seed']}" / "metrics.json", folder / f"seed{row['seed']}" / "history.csv"]
    return found


def results_used(histories: list[str | Path], results: Sequence[str | Path], files: dict[str, str]) -> list[str]:
    """Every result the PDF's numbers come from that records the code which made it: the training histories,
    the evaluations' metrics, and the jobs behind the feature-amount study's table when the report has one."""
    used = [*map(str, histories), *map(str, results)]
    if "feature_amounts_table" in files:
        used += [str(path) for path in study_results(files["feature_amounts_table"])]
    return used


def provenance(
    project: str | Path,
    config: dict,
    manifest: str | Path,
    histories: list[str | Path],
    snakemake_version: str,
    results: Sequence[str | Path] = (),
    files: dict[str, str] | None = None,
) -> dict:
    """The facts the paper's provenance block prints. ``code`` names every result the PDF uses
    (``results_used``: the histories, ``results`` such as the runs' metrics.json, the studies' jobs behind its
    ``files``) made by package code other than the code now installed."""
    device = config["compute"]["device"]
    seconds = training_seconds(histories)
    return {
        "commit": git_state(project),
        "code": code_check(results_used(histories, results, files or {})),
        "config_sha256": config_digest(config),
        "manifest_sha256": sha256_file(manifest),
        "packages": package_versions(snakemake_version),
        "device": f"{device} (config compute.device); this build: {describe_device(resolve_device('cpu'))}"
        + (f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "training_time": f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s",
        "training_runs": len(histories),
    }
