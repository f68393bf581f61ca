"""What the workflow plans, read from Snakemake's structured outputs rather than from free text.

``summary``: the rows of ``snakemake --summary`` (a TSV of every output file, its rule and plan).
``dry_run_jobs``: the jobs of a dry run, each as its ``key: value`` lines (rule, wildcards, resources).
``environment_without_heavy_packages``: a Snakemake-only install, for planning without torch and friends."""

from __future__ import annotations

import csv
import io
import os
import subprocess

from helpers import PROJECT, run_snakemake


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


HEAVY = ("torch", "torchvision", "scipy", "sklearn", "matplotlib", "PIL")
BLOCKER = f'''
import sys

class _Unimportable:
    """Stands for an environment where these packages are not installed."""
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {HEAVY!r}:
            raise ImportError(f"{{name}} is not installed here (tests/planned.py)")
        return None

sys.meta_path.insert(0, _Unimportable())
'''


def environment_without_heavy_packages(folder) -> dict:
    """The environment of a Snakemake install without HEAVY: a sitecustomize in ``folder`` refuses them."""
    site = folder / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(PROJECT / "src")]))
