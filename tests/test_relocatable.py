"""A finished run moved with its checkout (a `mv`, a copy to the cluster's scratch) is still finished: the
rules' params, inputs and shell text that Snakemake compares hold no absolute path of the checkout (it is
in the shell prefix alone). Also: --report of the finished run where only Snakemake is installed."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from planned import environment_without_heavy_packages

from helpers import copy_checkout

TRACKED = ("Snakefile", "workflow", "src", "envs", "notebooks", "profiles", "config.yaml", "configs")
# The data stage of the demo and a notebook rule (Figure 1's tables): package commands and a notebook input.
TARGETS = ("results/data/audit_summary.json", "report/tables/figure1.csv")


def _snakemake(checkout: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *TARGETS, *args, "--configfile", str(checkout / "configs" / "demo.yaml")],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _plans(checkout: Path) -> dict[str, str]:
    result = _snakemake(checkout, "--summary")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split("\t") for line in result.stdout[result.stdout.index("output_file\t") :].splitlines()]
    header = rows[0]
    return {row[header.index("output_file")]: row[header.index("plan")] for row in rows[1:]}


@pytest.mark.slow
def test_a_moved_run_plans_nothing(tmp_path):
    first = tmp_path / "first" / "bagnet-repro"
    first.mkdir(parents=True)
    copy_checkout(first, TRACKED)
    ran = _snakemake(first, "--cores", "2")
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert set(_plans(first).values()) == {"no update"}

    moved = tmp_path / "elsewhere" / "clone"
    shutil.copytree(first, moved, symlinks=True)  # keeps the files' times, as mv or rsync -a do
    shutil.rmtree(first)  # nothing may still point into the old place
    plans = _plans(moved)
    assert len(plans) >= 10 and set(plans.values()) == {"no update"}, plans
    dry = _snakemake(moved, "-n")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr

    report = moved / "report.html"
    made = _snakemake(moved, "--report", str(report), env=environment_without_heavy_packages(tmp_path))
    assert made.returncode == 0, made.stderr[-3000:]
    assert report.stat().st_size > 0
