"""A job given a GPU it cannot use stops in one line; every computing job's log opens with its device.

This host has no GPU, so "given a GPU" is what a scheduler or rule would say: CUDA_VISIBLE_DEVICES, SLURM's
variables, or the rules' --gpus. The causes a GPU host would show (a driver too old for the wheels' CUDA, torch
without CUDA) are checked through cuda_problem with the facts such hosts report.
"""

import os
import subprocess
import sys
import time

import pytest

from bagnet_repro.compute import cuda_probe
from bagnet_repro.compute.device import cuda_problem, gpu_given
from bagnet_repro.errors import UserError
from helpers import PROJECT

no_driver = pytest.mark.skipif(
    cuda_probe.driver_cuda_version() is not None,
    reason="this host has an NVIDIA driver: a given GPU may well be usable",
)


def _run(args, **env):
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS")
    }
    environ.update(env, PYTHONPATH=str(PROJECT / "src"))
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bagnet_repro", *args], env=environ, capture_output=True, text=True, timeout=300
    )
    return result, time.monotonic() - start


def _commands(tmp_path, device="auto", gpus=None):
    """Each computing command with inputs that do not exist: the device check must come before any of them."""
    missing = str(tmp_path / "missing")
    dev = ["--device", device, "--threads", "1"] + (["--gpus", str(gpus)] if gpus is not None else [])
    out = str(tmp_path / "out")
    return {
        "train": [
            "train",
            "--manifest",
            missing,
            "--model",
            "bagnet9",
            "--best",
            out,
            "--history",
            out,
            "--checkpoint",
            out,
            "--recipe",
            "report",
            "--seed",
            "0",
            *dev,
        ],
        "evaluate": [
            "evaluate",
            "--checkpoint",
            missing,
            "--manifest",
            missing,
            "--metrics",
            out,
            "--predictions",
            out,
            "--scramble-grid",
            "4",
            "--sweep-grids",
            "--scramble-seed",
            "0",
            "--batch-size",
            "2",
            *dev,
        ],
        "heatmaps": [
            "heatmaps",
            "--checkpoints",
            missing,
            "--selection",
            missing,
            "--out",
            out,
            "--scramble-grid",
            "4",
            "--scramble-seed",
            "0",
            "--memory-mb",
            "10",
            *dev,
        ],
        "explain": ["explain", missing, "--out", out, "--device", device, "--threads", "1"],
    }


@no_driver
@pytest.mark.parametrize(
    "command, env",
    [
        ("train", {"CUDA_VISIBLE_DEVICES": "0"}),
        ("evaluate", {"SLURM_GPUS_ON_NODE": "1"}),
        ("heatmaps", {"SLURM_JOB_GPUS": "3"}),
        ("explain", {"SLURM_STEP_GPUS": "0,1"}),
    ],
)
def test_given_gpu_without_a_driver_stops_in_one_line(tmp_path, command, env):
    result, seconds = _run(_commands(tmp_path)[command], **env)
    name, value = next(iter(env.items()))
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        (
            f"error: this job was given a GPU ({name}={value}) but cannot use it: "
            "no NVIDIA driver is loaded on this machine (libcuda.so.1 not found)"
        )
    ]
    assert seconds < 120 and not (tmp_path / "out").exists()


@no_driver
def test_the_rules_gpus_flag_counts_as_given(tmp_path):
    result, _ = _run(_commands(tmp_path, gpus=1)["evaluate"])
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("error: this job was given a GPU (--gpus 1) but cannot use it")


def test_cpu_job_logs_its_device_first(tmp_path):
    # A CPU job is not stopped by a GPU variable: the config asked for the CPU.
    result, _ = _run(_commands(tmp_path, device="cpu", gpus=0)["evaluate"], CUDA_VISIBLE_DEVICES="0")
    first, *rest = result.stderr.splitlines()
    import torch

    assert first.startswith("device: cpu, ") and "(1 threads)" in first and torch.__version__ in first
    assert result.returncode == 1 and rest[-1].startswith("error: ") and "missing" in rest[-1]


def test_auto_without_a_gpu_given_runs_on_the_cpu(tmp_path):
    result, _ = _run(_commands(tmp_path)["evaluate"], CUDA_VISIBLE_DEVICES="")
    assert result.stderr.splitlines()[0].startswith("device: cpu, ")


def test_what_counts_as_given():
    assert gpu_given(2, {}) == "--gpus 2"
    assert gpu_given(0, {"CUDA_VISIBLE_DEVICES": "GPU-1a2b"}) == "CUDA_VISIBLE_DEVICES=GPU-1a2b"
    for env in (
        {},
        {"CUDA_VISIBLE_DEVICES": ""},
        {"CUDA_VISIBLE_DEVICES": "-1"},
        {"SLURM_GPUS_ON_NODE": "0"},
        {"SLURM_JOB_GPUS": ""},
    ):
        assert gpu_given(0, env) is None, env


@pytest.mark.parametrize("value", ["garbage", "0", "false", "no"])
def test_an_unknown_gpu_check_value_is_refused_naming_the_accepted_ones(value):
    with pytest.raises(UserError) as caught:
        gpu_given(0, {"BAGNET_REPRO_GPU_CHECK": value, "CUDA_VISIBLE_DEVICES": "0"})
    expected = f"environment variable BAGNET_REPRO_GPU_CHECK={value!r} is not one of: on, off (unset: on)"
    assert str(caught.value) == expected
    assert gpu_given(0, {"BAGNET_REPRO_GPU_CHECK": "OFF", "CUDA_VISIBLE_DEVICES": "0"}) is None
    assert gpu_given(0, {"BAGNET_REPRO_GPU_CHECK": "on", "CUDA_VISIBLE_DEVICES": "0"}) == "CUDA_VISIBLE_DEVICES=0"


def test_causes_a_gpu_host_would_show():
    import torch

    no_cuda = cuda_problem(None, (13, 0), 1, False)
    assert no_cuda.startswith(f"torch {torch.__version__} is built without CUDA")
    old_driver = cuda_problem("13.0", (12, 2), 0, False)
    assert "supports CUDA up to 12.2 but torch" in old_driver and "built for CUDA 13.0" in old_driver
    assert "CUDA 12 wheels" in old_driver
    assert (
        cuda_problem("13.0", (13, 1), 0, False, env={"CUDA_VISIBLE_DEVICES": "7"})
        == "no CUDA device is visible (CUDA_VISIBLE_DEVICES=7)"
    )
    assert cuda_problem("13.0", (13, 0), 2, False, "CUDA error: busy") == "CUDA did not start: CUDA error: busy"
    # A newer minor of the same major runs the wheels (minor-version compatibility); a newer driver too.
    assert cuda_problem("12.6", (12, 4), 1, True) is None
    assert cuda_problem("12.6", (13, 0), 1, True) is None
