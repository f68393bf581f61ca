"""What the workflow plans, read from Snakemake's structured outputs rather than from free text.

``summary``: the rows of ``snakemake --summary`` (a TSV of every output file, its rule and plan).
``dry_run_jobs``: the jobs of a dry run, each as its ``key: value`` lines (rule, wildcards, resources)."""

from __future__ import annotations

import csv
import io
import subprocess

from conftest import run_snakemake


def _checked(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def summary(workdir, *args: str, **kwargs) -> list[dict]:
    """One dict per output file (output_file, rule, status, plan, ...) of ``snakemake --summary``."""
    text = _checked(run_snakemake(workdir, "--summary", *args, **kwargs))
    header = text.index("output_file\t")
    return list(csv.DictReader(io.StringIO(text[header:]), delimiter="\t"))


def _mapping(text: str) -> dict:
    """``a=1, b=x`` as {'a': '1', 'b': 'x'}."""
    pairs = (item.split("=", 1) for item in text.split(", ") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def dry_run_jobs(workdir, *args: str, **kwargs) -> list[dict]:
    """The jobs of ``snakemake -n``: {'rule': name, 'wildcards': {...}, 'resources': {...}, 'threads': n}."""
    jobs = []
    for line in _checked(run_snakemake(workdir, "-n", *args, **kwargs)).splitlines():
        if line.startswith(("rule ", "localrule ")) and line.endswith(":"):
            jobs.append({"rule": line.split()[1].rstrip(":"), "wildcards": {}, "resources": {}})
        elif jobs and line.startswith("    ") and ": " in line:
            key, value = line.strip().split(": ", 1)
            jobs[-1][key] = _mapping(value) if key in ("wildcards", "resources") else value
    return [job for job in jobs if job["rule"] != "all"]
