"""Concurrent GPU jobs on one machine take distinct devices (lock files), tested without GPUs: the device count
is a parameter, and real processes compete for the slots."""

import os
import subprocess
import sys

import pytest

from bagnet_repro.compute import gpu_slots
from bagnet_repro.compute.device import take_slot
from bagnet_repro.errors import UserError
from helpers import PROJECT

_JOB = (
    "import sys; from bagnet_repro.compute.gpu_slots import claim; print(*claim({count}, {wanted}), flush=True); "
    "sys.stdin.read()"
)


def _job(folder, count, wanted=1):
    """A stand-in for a GPU job: claims, prints its devices, holds them until its stdin closes."""
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"), BAGNET_GPU_SLOTS=str(folder))
    return subprocess.Popen(
        [sys.executable, "-c", _JOB.format(count=count, wanted=wanted)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_competing_jobs_get_distinct_devices_and_the_next_waits(tmp_path):
    holders = [_job(tmp_path, 3) for _ in range(3)]
    try:
        taken = [int(p.stdout.readline()) for p in holders]
        assert sorted(taken) == [0, 1, 2]
        late = _job(tmp_path, 3)
        assert late.stderr.readline().startswith("waiting for 1 free GPU(s) of 3")
        freed = holders[taken.index(1)]
        freed.stdin.close()
        freed.wait(timeout=30)
        assert late.stdout.readline().split() == ["1"]
        late.stdin.close()
        late.wait(timeout=30)
    finally:
        for process in holders:
            process.kill()
            process.wait()


def test_a_crashed_job_frees_its_device(tmp_path):
    first = _job(tmp_path, 1)
    assert first.stdout.readline().split() == ["0"]
    first.kill()
    first.wait()
    second = _job(tmp_path, 1)
    assert second.stdout.readline().split() == ["0"]
    second.stdin.close()
    second.wait(timeout=30)


def test_several_gpus_per_job_and_too_many(tmp_path):
    assert gpu_slots.claim(4, 1, tmp_path) == [0]
    assert gpu_slots.claim(4, 2, tmp_path) == [1, 2]
    with pytest.raises(UserError, match="asks for 5 GPUs but the machine has 4"):
        gpu_slots.claim(4, 5, tmp_path)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand the folder to another user")
def test_a_folder_of_another_user_is_refused(tmp_path):
    folder = tmp_path / "slots"
    folder.mkdir()
    os.chown(folder, 65534, 65534)
    with pytest.raises(UserError, match="is not a folder of yours"):
        gpu_slots.claim(2, 1, folder)


def test_take_slot_shows_the_job_its_gpu_only(tmp_path, monkeypatch):
    monkeypatch.setenv("BAGNET_GPU_SLOTS", str(tmp_path))
    for name in (
        "CUDA_VISIBLE_DEVICES",
        "CUDA_DEVICE_ORDER",
        "LOCAL_RANK",
        "SLURM_JOB_GPUS",
        "SLURM_STEP_GPUS",
        "SLURM_GPUS_ON_NODE",
    ):
        monkeypatch.delenv(name, raising=False)
    held = _job(tmp_path, 2)
    try:
        assert held.stdout.readline().split() == ["0"]
        assert take_slot("auto", 0, 2) == "GPU 1 of 2 by slot lock"
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "1" and os.environ["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"
        # Now the devices are assigned: no second slot, as under a scheduler that set CUDA_VISIBLE_DEVICES.
        assert take_slot("auto", 0, 2) is None
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
        assert take_slot("cuda:1", 0, 2) is None and take_slot("auto", 0, 1) is None
        monkeypatch.setenv("SLURM_JOB_GPUS", "0")
        assert take_slot("auto", 0, 2) is None
    finally:
        held.kill()
        held.wait()
