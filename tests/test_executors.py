"""A SLURM run on a host without SLURM's commands stops at start-up in one line, before any submission."""

from __future__ import annotations

import os
import subprocess
import sys

from bagnet_repro.config.executors import missing_device, missing_slurm
from helpers import PROJECT

NONE = {"sbatch": None, "squeue": None, "scancel": None}.get


def test_the_executor_is_read_from_the_option_and_the_profile(tmp_path):
    profile = tmp_path / "myslurm"
    profile.mkdir()
    (profile / "config.yaml").write_text("executor: slurm\njobs: 5\n")
    env = {"PWD": str(tmp_path)}
    asked = (["--executor", "slurm"], ["--executor=slurm"], ["-e", "slurm"], ["--profile", "myslurm"])
    for argv in (["snakemake", *options] for options in asked):
        line = missing_slurm(argv, env, NONE)
        assert line and "sbatch, squeue, scancel are not on PATH on this host" in line, argv
    assert "(--profile myslurm)" in missing_slurm(["snakemake"], {**env, "SNAKEMAKE_PROFILE": "myslurm"}, NONE)
    assert missing_slurm(["snakemake", "--executor", "slurm", "-n"], env, NONE) is None  # a dry run submits nothing
    assert missing_slurm(["snakemake", "-pn", "--executor", "slurm"], env, NONE) is None
    assert missing_slurm(["snakemake", "--executor", "slurm"], env, lambda c: f"/usr/bin/{c}") is None
    assert missing_slurm(["snakemake", "--cores", "2"], env, NONE) is None
    line = missing_slurm(["snakemake", "-e", "slurm"], env, {"sbatch": "/x/sbatch", "scancel": "/x/scancel"}.get)
    assert "and squeue is not on PATH" in line, line


def test_the_slurm_profile_without_slurm_stops_before_any_submission(tmp_path):
    bin_dir = os.path.dirname(sys.executable)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--directory", str(tmp_path)],
        cwd=PROJECT,
        env={**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "PWD": str(PROJECT)},
        capture_output=True,
        text=True,
    )
    if any(os.path.exists(f"/usr/bin/{c}") for c in ("sbatch", "squeue", "scancel")):
        return  # a SLURM host: nothing to show here
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == (
        "error: the SLURM executor (--profile profiles/slurm) needs SLURM's commands, and sbatch, squeue, scancel "
        "are not on PATH on this host: run it on the cluster's login node, or leave the SLURM profile out to run here"
    )
    assert "sacct" not in result.stderr and os.listdir(tmp_path) in ([], [".snakemake"])


def test_a_cuda_index_beyond_this_machines_gpus_is_refused_where_the_jobs_run_here(tmp_path):
    env = {"PWD": str(tmp_path)}
    two = lambda: 2  # noqa: E731 (the machine's GPU count, as the driver gives it)
    assert missing_device("cuda:1", ["snakemake", "--cores", "2"], two, env) is None
    assert missing_device("cuda", ["snakemake"], two, env) is None
    assert missing_device("cpu", ["snakemake"], two, env) is None
    line = missing_device("cuda:2", ["snakemake", "--cores", "2"], two, env)
    assert line == (
        "config error at 'compute.device': cuda:2 does not exist on this machine, where the jobs run (2 GPU(s): cuda:0 "
        "to cuda:1); name one of them, cuda, auto or cpu (on a cluster profile the job's node decides)"
    )
    assert missing_device("cuda:2", ["snakemake", "-n"], two, env) == line  # the dry run plans for this machine
    assert missing_device("cuda:2", ["snakemake", "--executor", "slurm"], two, env) is None  # the node decides
    assert missing_device("cuda:2", ["snakemake"], two, {**env, "BAGNET_REPRO_GPU_CHECK": "off"}) is None


def test_the_start_up_check_refuses_a_device_this_machine_lacks(tmp_path):
    from bagnet_repro.compute.cuda_probe import physical_gpu_count

    count = physical_gpu_count()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--directory", str(tmp_path)]
        + ["--config", f"compute={{device: cuda:{count}}}"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            f"error: config error at 'compute.device': cuda:{count} does not exist on this machine, where the jobs run"
        )
    ), result.stderr[-2000:]
