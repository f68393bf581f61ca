"""A job's compute record for a torch device: its device line, its GPUs' energy counters and peak memory."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path

import torch

from .accounting import JobRecord, read_record, record_path
from .device import device_line, resolve_device
from .energy import energy_meter
from .numerics import numerics


def gpu_uuid(index: int) -> str:
    """The GPU's UUID as NVML writes it (``GPU-...``), from torch's device properties."""
    uuid = str(torch.cuda.get_device_properties(index).uuid)
    return uuid if uuid.startswith("GPU-") else f"GPU-{uuid}"


def _cuda_indices(device: torch.device, gpus: int) -> list[int]:
    first = device.index if device.index is not None else torch.cuda.current_device()
    return list(range(first, first + gpus))


def job_record(
    result: str | Path,
    stage: str,
    job: str,
    device: torch.device,
    gpus: int | None = None,
    model: str | None = None,
    seed: int | None = None,
) -> JobRecord:
    """The record of a job computing on ``device`` (and, for a DDP job on CUDA, the next ``gpus - 1`` GPUs too:
    their energy is counted; the peak memory is this process's GPU's)."""
    on_cuda = device.type == "cuda"
    gpus = (gpus or 1) if on_cuda else 0
    indices = _cuda_indices(device, gpus) if on_cuda else []
    meter = energy_meter(device.type, [gpu_uuid(index) for index in indices])

    def peak_device_mb() -> float:
        return round(torch.cuda.max_memory_reserved(device) / 2**20, 1)

    return JobRecord(
        result,
        stage,
        job,
        device=device_line(str(device)),
        device_kind=device.type,
        gpus=gpus,
        model=model,
        seed=seed,
        meter=meter,
        peak_device_mb=peak_device_mb if on_cuda else None,
    )


def recorded_job(stage: str, result: str, device: str = "device"):
    """Decorator: run a job function inside the compute record beside its argument ``result`` (a path), on the
    device its argument ``device`` names. The job is named ``<result's folder>_<result's stem>``
    (``results/metrics/bagnet9/seed1.json``: ``bagnet9_seed1``); a returned dict's ``model`` and ``seed`` name
    the model, and its ``numerics["evaluation"]`` the job's numerics."""

    def wrap(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def run(*args, **kwargs):
            arguments = signature.bind(*args, **kwargs)
            arguments.apply_defaults()
            out = Path(arguments.arguments[result])
            job = job_record(out, stage, f"{out.parent.name}_{out.stem}", resolve_device(arguments.arguments[device]))
            with job:
                value = function(*args, **kwargs)
                if isinstance(value, dict):
                    job.identify(model=value.get("model"), seed=value.get("seed"))
                    if isinstance(value.get("numerics"), dict) and "evaluation" in value["numerics"]:
                        job.set_numerics(value["numerics"]["evaluation"])
            return value

        return run

    return wrap


def evaluation_numerics(
    device: torch.device, checkpoint: str | Path, precision: str = "fp32", dtype: torch.dtype | None = None
) -> dict:
    """The numerics of a model's metrics: its training's (from the train job's record beside ``checkpoint``; None
    where that job kept none) and this evaluation's (``precision``, autocast to ``dtype``; fp32: none)."""
    record = read_record(record_path(checkpoint))
    attempts = record["attempts"] if record else []
    training = next((a["numerics"] for a in reversed(attempts) if a.get("numerics")), None)
    return {"training": training, "evaluation": numerics(device, precision, dtype)}
