"""The repository tracks sources and committed results only: a run's outputs never show up in git status."""

import shutil
import subprocess
import sys

import pytest

from helpers import PROJECT

needs_git = pytest.mark.skipif(
    shutil.which("git") is None or not (PROJECT / ".git").exists(), reason="needs a git checkout"
)


def git(*args):
    return subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True)


@needs_git
def test_run_outputs_are_ignored_and_benchmark_results_are_not():
    outputs = [
        "results/models/bagnet33/seed0/best.pt",
        "logs/train/bagnet33_seed0.log",
        "report/tables/table1.csv",
        "report/figures/heatmaps_classes.pdf",
        ".snakemake/log/x.log",
        "report.html",
        "report/paper.pdf",
    ]
    ignored = git("check-ignore", "--no-index", *outputs).stdout.split()
    assert ignored == outputs
    kept = [
        "benchmarks/results/heatmap_speed_cpu_2threads.json",
        "workflow/report/captions/table1.rst",
        "workflow/report/paper.typ",
    ]
    assert git("check-ignore", "--no-index", *kept).stdout == ""
    assert git("ls-files", "logs").stdout == "" and git("ls-files", "report").stdout == ""
    assert "benchmarks/results/pretrain_throughput_cpu_2threads.json" in git("ls-files", "benchmarks/results").stdout


def test_outputs_get_the_umask_mode_not_the_temporary_files_0600(tmp_path):
    import os

    from bagnet_repro.files.atomic import atomic_dir, write_text_atomic

    previous = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "table.tsv", "a\n")
        with atomic_dir(tmp_path / "folder") as folder:
            (folder / "x").write_text("x")
    finally:
        os.umask(previous)
    assert (tmp_path / "table.tsv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "folder").stat().st_mode & 0o777 == 0o755


def test_the_wheel_ships_the_workflows_schema_as_a_file(tmp_path):
    """workflow/schemas/ holds the one schema; the package links to it, and a built wheel carries its text, so
    check-config works from a non-editable install."""
    import zipfile

    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(PROJECT),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("bagnet_repro-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("bagnet_repro/config/schemas/config.schema.yaml")
    assert shipped == (PROJECT / "workflow" / "schemas" / "config.schema.yaml").read_bytes()
