"""A workflow of a few shell rules for the run-archive tests: parsed in a fraction of a second, with the names
the hostile archives use among its outputs, and real Snakemake records once it has run."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from bagnet_repro.runs import manifest as mf

# Outputs of the tiny workflow (each with a log), beside the made files results/f{i}.txt.
NAMED = (
    "results/metrics/bagnet9/seed0.json",
    "results/metrics/resnet50/seed0.json",
    "results/metrics/odd",
    "results/data/manifest.tsv",
    "results/a",
    "results/b",
    "report/paper.pdf",
)
MADE = 4  # results/f{i}.txt and logs/f{i}.log; config key ``made`` changes it

SNAKEFILE = f"""
NAMED = {list(NAMED)!r}
config.setdefault("seeds", [0])
config.setdefault("data_dir", "data")
config.setdefault("made", {MADE})
shell.executable("bash")


rule all:
    input:
        expand("results/f{{i}}.txt", i=range(config["made"])),
        NAMED,
        "results/slow.txt",
        "results/timed.txt",


rule slow:
    output:
        "results/slow.txt",
    log:
        "logs/slow.log",
    shell:
        "echo started > {{log}}; sleep 60; echo done > {{output}}"


rule timed:
    output:
        "results/timed.txt",
    log:
        "logs/timed.log",
    benchmark:
        "logs/benchmarks/timed/timed.tsv"
    shell:
        "echo timed > {{output}}; echo timed > {{log}}"


rule make:
    output:
        "results/f{{i}}.txt",
    log:
        "logs/f{{i}}.log",
    params:
        data=config["data_dir"],
        out=lambda wildcards, output: os.path.abspath(output[0]),
    shell:
        "echo {{wildcards.i}} {{params.data}} > {{output}}; echo made {{params.out}} > {{log}}"


rule named:
    output:
        NAMED,
    log:
        [f"logs/train/m{{i}}.log" for i in range(4)],
    shell:
        "false"
"""


def tiny_workflow(work: Path, made: int | None = None, configfiles: list[str] = ()) -> Path:
    """``work`` with the tiny Snakefile; with ``made``, its first ``made`` files and logs made by Snakemake
    (with ``configfiles``)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "Snakefile").write_text(SNAKEFILE)
    if made is not None:
        targets = [f"results/f{i}.txt" for i in range(made)]
        extra = ["--configfile", *configfiles] if configfiles else []
        result = subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", "1", *targets, *extra],
            cwd=work,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    return work


def entry(name: str, data: bytes) -> dict:
    return {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "mtime_ns": 1}


def synthetic_archive(
    path,
    files: dict[str, bytes],
    listed: list[dict] | None = None,
    extra=(),
    commit="0" * 40,
    config=None,
    records=None,
    folders=("/elsewhere/run", "/elsewhere/code"),
):
    """A run archive of ``files`` whose manifest lists ``listed`` (default: ``files`` as they are) and Snakemake's
    ``records``, made in the run and code ``folders``; ``extra`` are (TarInfo, bytes) members added after them."""
    manifest = {
        "format": mf.FORMAT,
        "files": listed if listed is not None else [entry(name, data) for name, data in files.items()],
        "records": records or {},
        "provenance": {"commit": commit, "config": config or {}, "work_dir": folders[0], "code_dir": folders[1]},
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [(mf.MANIFEST_NAME, mf.dumps(manifest)), *files.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def tree(root):
    """Every path under ``root`` with its bytes (links as their target), to show nothing was written (the
    .snakemake/ folder that reading the workflow makes, as ``snakemake -n`` makes it, aside)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".snakemake"]  # Snakemake's own folder, made by any dry run
        for name in dirs + files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = (
                os.readlink(path)
                if os.path.islink(path)
                else Path(path).read_bytes()
                if os.path.isfile(path)
                else "dir"
            )
    return found


def records(work: Path) -> dict[str, dict]:
    """Snakemake's metadata records in ``work`` by file path, without the times that differ between runs."""
    import base64

    found = {}
    root = work / ".snakemake" / "metadata"
    for path in root.rglob("*") if root.is_dir() else ():
        if path.is_file():
            key = base64.urlsafe_b64decode("".join(p.lstrip("@") for p in path.relative_to(root).parts)).decode()
            found[key] = json.loads(path.read_text())
    return found
