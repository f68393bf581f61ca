"""export-run knows a run that is going, reads the run's own checkout, checks the archive path first, and never
drops a run's files silently when it is not told the run's config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time

from tiny_workflow import MADE, tiny_workflow

from bagnet_repro.runs import manifest as mf
from helpers import PROJECT


def cli(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bagnet_repro", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
        capture_output=True,
        text=True,
    )


def one_line(result) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def members(archive) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def test_a_run_that_is_going_is_refused_and_its_unfinished_job_never_packed(tmp_path):
    run = tiny_workflow(tmp_path / "run", made=MADE)
    going = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1", "results/slow.txt"],
        cwd=run,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (run / "logs/slow.log").is_file():  # the job is running: its log begun, its output not yet
            assert time.monotonic() < deadline and going.poll() is None
            time.sleep(0.2)
        line = one_line(cli("export-run", str(tmp_path / "a.tar.gz"), cwd=run))
        assert line == (
            f"error: {run}: a Snakemake run is going here (process {going.pid} holds its lock); export when it has "
            "finished, or pass --unfinished to pack only its finished jobs"
        )
        assert not (tmp_path / "a.tar.gz").exists()
        told = cli("export-run", str(tmp_path / "a.tar.gz"), "--unfinished", cwd=run)
        assert told.returncode == 0, told.stderr
        assert "logs/slow.log" not in members(tmp_path / "a.tar.gz") and "logs/f0.log" in members(tmp_path / "a.tar.gz")
    finally:
        going.send_signal(signal.SIGKILL)
        going.wait()
    # Killed: its lock and its incomplete output stay behind; no run is going, but the output is unfinished.
    (run / "results/slow.txt").write_text("half\n")
    line = one_line(cli("export-run", str(tmp_path / "b.tar.gz"), cwd=run))
    assert "1 outputs are marked incomplete by Snakemake (first: results/slow.txt; a job failed or was killed)" in line
    assert line.endswith("rerun snakemake, or pass --unfinished to pack only the finished jobs"), line
    told = cli("export-run", str(tmp_path / "b.tar.gz"), "--unfinished", cwd=run)
    assert told.returncode == 0, told.stderr
    names = members(tmp_path / "b.tar.gz")
    assert "results/slow.txt" not in names and "logs/slow.log" not in names and "results/f0.txt" in names


def test_the_archive_path_is_checked_before_the_run_is_read(tmp_path):
    run = tiny_workflow(tmp_path / "run", made=1)
    (tmp_path / "adir.tar.gz").mkdir()
    line = one_line(cli("export-run", str(tmp_path / "adir.tar.gz"), cwd=run))
    assert line == f"error: {tmp_path / 'adir.tar.gz'} is a folder; name the .tar.gz file to write"
    line = one_line(cli("export-run", str(tmp_path / "no/such/a.tar.gz"), cwd=run))
    assert line == f"error: {tmp_path / 'no/such/a.tar.gz'}: its folder {tmp_path / 'no/such'} does not exist"
    assert sorted(os.listdir(tmp_path)) == ["adir.tar.gz", "run"] and os.listdir(tmp_path / "adir.tar.gz") == []


def test_the_runs_own_checkout_is_read_and_its_commit_recorded(tmp_path):
    """A clone with its own Snakefile, exported by the bagnet-repro of another checkout: the clone's workflow
    and commit, not the package's."""
    clone = tiny_workflow(tmp_path / "clone", made=2)
    git = ["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "Snakefile"], check=True)
    subprocess.run([*git, "commit", "-qm", "tiny"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    done = cli("export-run", str(tmp_path / "a.tar.gz"), cwd=clone)
    assert done.returncode == 0, done.stderr
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        manifest = json.loads(tar.extractfile(mf.MANIFEST_NAME).read())
    assert manifest["provenance"]["commit"] == commit and manifest["provenance"]["code_dir"] == str(clone)
    assert sorted(entry["path"] for entry in manifest["files"]) == [
        "logs/f0.log",
        "logs/f1.log",
        "results/f0.txt",
        "results/f1.txt",
    ]


def test_without_configfile_a_run_of_another_config_is_refused_naming_its_files(tmp_path):
    config = tmp_path / "six.yaml"
    config.write_text("made: 6\n")
    run = tiny_workflow(tmp_path / "run", made=6, configfiles=[str(config)])
    line = one_line(cli("export-run", str(tmp_path / "a.tar.gz"), cwd=run))
    assert line == (
        "error: 2 files under results/ are not outputs of this workflow with its default config (first: "
        "results/f4.txt, results/f5.txt); pass the run's config files with --configfile"
    )
    done = cli("export-run", str(tmp_path / "a.tar.gz"), "--configfile", str(config), cwd=run)
    assert done.returncode == 0, done.stderr
    assert "results/f5.txt" in members(tmp_path / "a.tar.gz")
    moved = tiny_workflow(tmp_path / "moved")
    line = one_line(cli("import-run", str(tmp_path / "a.tar.gz"), cwd=moved))
    assert "results/f4.txt is not a file this workflow writes (with its config files); 4 such" in line, line
    assert "pass the run's config files with --configfile" in line


def test_a_default_config_run_travels_with_its_compute_records_and_benchmarks(tmp_path):
    """A job's compute record and its benchmark file are the run's own: exported without --configfile, checked
    and imported like every other member, and compute-table reads the same jobs after the import."""
    run = tiny_workflow(tmp_path / "run", made=2)
    timed = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "results/timed.txt"], cwd=run)
    assert timed.returncode == 0
    record = {
        "stage": "train",
        "job": "f0",
        "model": None,
        "seed": None,
        "result": "results/f0.txt",
        "attempts": [
            {
                "attempt": 1,
                "status": "succeeded",
                "device": "cpu",
                "device_kind": "cpu",
                "gpus": 0,
                "epochs": 0,
                "wall_s": 1.5,
                "cpu_s": 1.0,
                "peak_host_mb": 10.0,
                "peak_device_mb": None,
                "energy_j": None,
                "energy_method": "not measured",
            }
        ],
    }
    (run / "results/f0.compute.json").write_text(json.dumps(record))
    done = cli("export-run", str(tmp_path / "a.tar.gz"), cwd=run)
    assert done.returncode == 0, done.stderr
    packed = members(tmp_path / "a.tar.gz")
    assert "results/f0.compute.json" in packed and "logs/benchmarks/timed/timed.tsv" in packed

    moved = tiny_workflow(tmp_path / "moved")
    done = cli("import-run", str(tmp_path / "a.tar.gz"), cwd=moved)
    assert done.returncode == 0, done.stderr
    tables = []
    for work in (run, moved):
        table = cli(
            "compute-table",
            "--results",
            "results",
            "--benchmarks",
            "logs/benchmarks",
            "--csv",
            "t.csv",
            "--md",
            "t.md",
            "--tex",
            "t.tex",
            cwd=work,
        )
        assert table.returncode == 0, table.stderr
        tables.append((work / "t.csv").read_text())
    assert tables[0] == tables[1] and "f0" in tables[0] and "timed" in tables[0]
