"""Device choice: ``auto`` takes CUDA when present, else the CPU; a job given a GPU that cannot use it stops.

``start_device`` is what every computing command calls first: it checks that a job the scheduler gave a GPU can
use one (else one line names the cause, in seconds rather than after hours on the CPU), gives the job a GPU of
its own on a machine of several (gpu_slots.py), and writes the device line that opens the job's log.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeGuard

import torch

from ..config.environment import GPU_CHECK, switch
from ..errors import UserError
from . import cuda_probe, gpu_slots

# Variables by which a scheduler says it gave the job GPUs; CUDA_VISIBLE_DEVICES is one when it names devices.
_SCHEDULER_GPU_VARIABLES = ("SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS")
_NO_DEVICES = ("", "-1", "none", "nodevfiles")
_FIX = "see docs/environments.md"


def _names_devices(value: str | None) -> TypeGuard[str]:
    return value is not None and value.strip().lower() not in _NO_DEVICES


def gpu_given(gpus: int = 0, env: Mapping[str, str] | None = None) -> str | None:
    """Why this job counts as given a GPU (the rule's ``--gpus``, CUDA_VISIBLE_DEVICES, the scheduler's
    variables), in words for the error line, or None when it was given none."""
    env = os.environ if env is None else env
    if not switch(GPU_CHECK, env):
        return None  # a test cluster whose GPUs are stand-ins (tests/cluster/slurm_demo.sh): auto may use the CPU
    if gpus > 0:
        return f"--gpus {gpus}"
    for name in ("CUDA_VISIBLE_DEVICES", *_SCHEDULER_GPU_VARIABLES):
        value = env.get(name)
        if _names_devices(value) and not (name == "SLURM_GPUS_ON_NODE" and value.strip() == "0"):
            return f"{name}={value}"
    return None


def cuda_problem(
    torch_cuda: str | None,
    driver_cuda: tuple[int, int] | None,
    visible: int,
    available: bool,
    start_error: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str | None:
    """The reason CUDA cannot be used, from the facts a job can gather, or None when it can.

    torch_cuda: the CUDA the torch wheels were built for (``torch.version.cuda``); driver_cuda: the newest CUDA
    the driver supports; visible: the devices CUDA sees. A driver of an older major CUDA than the wheels' cannot
    run them (a newer minor of the same major can, by CUDA's minor-version compatibility).
    """
    env = os.environ if env is None else env
    if torch_cuda is None:
        return f"torch {torch.__version__} is built without CUDA; install a CUDA build of torch ({_FIX})"
    if driver_cuda is None:
        return "no NVIDIA driver is loaded on this machine (libcuda.so.1 not found)"
    built = tuple(int(part) for part in torch_cuda.split(".")[:2])
    if driver_cuda[0] < built[0]:
        release = cuda_probe.driver_version()
        return (
            f"the NVIDIA driver{' ' + release if release else ''} supports CUDA up to "
            f"{driver_cuda[0]}.{driver_cuda[1]} but torch {torch.__version__} is built for CUDA {torch_cuda}; "
            f"update the driver or install torch's CUDA {driver_cuda[0]} wheels ({_FIX})"
        )
    if visible == 0:
        shown = env.get("CUDA_VISIBLE_DEVICES")
        return "no CUDA device is visible" + (f" (CUDA_VISIBLE_DEVICES={shown})" if shown is not None else "")
    if not available:
        return f"CUDA did not start: {start_error or 'torch.cuda.is_available() is False'}"
    return None


def _cuda_facts() -> tuple[bool, int, str | None]:
    """torch's own view: CUDA usable, devices visible, and the warning torch gives when CUDA fails to start."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = torch.cuda.is_available()
        visible = torch.cuda.device_count() if available else 0
    message = next((str(w.message).strip().splitlines()[0] for w in caught), None)
    return available, visible, message


def _wants_cuda(name: str, given: str | None) -> bool:
    return name.startswith("cuda") or (name == "auto" and given is not None)


def take_slot(name: str, gpus: int, count: int, env: Mapping[str, str] | None = None) -> str | None:
    """On a machine of ``count`` GPUs that no scheduler divided, lock GPUs for this job and show it only those
    (CUDA_VISIBLE_DEVICES, set before CUDA starts). Returns the slot in words, or None where none is needed."""
    env = os.environ if env is None else env
    if name not in ("auto", "cuda") or "CUDA_VISIBLE_DEVICES" in env or "LOCAL_RANK" in env:
        return None  # an index the user chose, a scheduler's assignment, or torchrun's ranks (one job, all GPUs)
    if any(_names_devices(env.get(v)) for v in _SCHEDULER_GPU_VARIABLES) or count < 2:
        return None
    if torch.cuda.is_initialized():
        return None  # too late to choose: CUDA read CUDA_VISIBLE_DEVICES when it started
    indices = gpu_slots.claim(count, max(1, gpus))
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")  # CUDA's numbering as NVML's, which the locks use
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, indices))
    return f"GPU {','.join(map(str, indices))} of {count} by slot lock"


def claim_device(name: str, gpus: int = 0) -> str | None:
    """Check, before any work, that a job meant to compute on CUDA can; take its GPU slot. Returns the slot's
    description (or None). Raises UserError naming the cause when a GPU was given (or asked for) but is unusable."""
    given = gpu_given(gpus)
    slot = take_slot(name, gpus, cuda_probe.physical_gpu_count()) if name in ("auto", "cuda") else None
    if not _wants_cuda(name, given):
        return slot
    available, visible, start_error = _cuda_facts()
    if torch.version.hip is not None:  # ROCm's torch: no NVIDIA driver to ask, only whether it starts
        problem = None if visible else f"ROCm did not start: {start_error or 'no device visible'}"
    else:
        problem = cuda_problem(torch.version.cuda, cuda_probe.driver_cuda_version(), visible, available, start_error)
    if problem is None and name.startswith("cuda:") and name[5:].isdigit() and int(name[5:]) >= visible:
        problem = f"{name} was asked for but {visible} device(s) are visible"
    if problem:
        why = f"this job was given a GPU ({given})" if given else f"device {name!r} was asked for"
        raise UserError(f"{why} but cannot use it: {problem}")
    return slot


def device_line(name: str, slot: str | None = None) -> str:
    """The job log's first line: the device, with the GPU's name, driver and CUDA versions, or the CPU model."""
    device = resolve_device(name)
    if device.type != "cuda":
        return f"device: cpu, {describe_device(device)}; torch {torch.__version__}"
    index = device.index if device.index is not None else torch.cuda.current_device()
    driver_cuda = cuda_probe.driver_cuda_version()
    parts = [
        f"device: cuda:{index}, {torch.cuda.get_device_name(index)}",
        f"driver {cuda_probe.driver_version() or 'unknown'}"
        + (f" (CUDA {driver_cuda[0]}.{driver_cuda[1]})" if driver_cuda else ""),
        f"torch {torch.__version__} built for CUDA {torch.version.cuda}",
    ]
    if slot:
        parts.append(slot)
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        parts.append(f"CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']}")
    return "; ".join(parts)


def start_device(name: str, gpus: int = 0, stream=None) -> None:
    """``claim_device`` then the device line (on stderr, the job's log, unless ``stream`` says): what every
    computing command does first. ``explain`` prints it on stdout, so its errors stay one line of stderr."""
    slot = claim_device(name, gpus)
    print(device_line(name, slot), file=stream or sys.stderr, flush=True)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested but CUDA is not available on this machine")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use auto, cpu or cuda") from None


def describe_device(device: torch.device) -> str:
    """The machine a measurement ran on, in words: the GPU's name, or the CPU model and torch's threads."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu} ({torch.get_num_threads()} threads)"


def timed(fn: Callable[[], object], device: torch.device) -> tuple[object, float]:
    """``fn()`` and its wall time in seconds, synchronising CUDA before and after so the GPU's work counts."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    result = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return result, time.perf_counter() - start


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` on ``device``: a host batch bound for a GPU is pinned first so that its copy is asynchronous
    (PyTorch's pinned-memory cache keeps the buffer until the copy is done); a no-op when it is there."""
    if device.type == "cuda" and tensor.device.type == "cpu":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)
