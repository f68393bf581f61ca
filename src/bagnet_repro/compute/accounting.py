"""A computing job's compute record, written beside its result: every attempt's time, memory, energy and numerics.

``<result stem>.compute.json`` holds one entry per attempt. An attempt is written when it starts (status
``running``), again after every epoch of a training job (its epochs so far), and at its end (``succeeded`` or
``failed``). An attempt still ``running`` when the next one starts was killed (``kill -9``, a lost node): it
becomes ``killed``, with the time and epochs of its last update. After a success the next attempt starts a new
record, for the result is being made again. Torch-free: the job hands in its device and numerics.
"""

from __future__ import annotations

import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ..errors import UserError
from ..files.atomic import write_text_atomic
from ..files.records import NUMBER, OPTIONAL_NUMBER, read_checked
from .energy import EnergyMeter, energy_meter

RECORD_SUFFIX = ".compute.json"
NOT_CUDA = "n/a (not CUDA)"


def record_path(result: str | Path) -> Path:
    """Where the record of the job that writes ``result`` lives: beside it, ``best.pt`` -> ``best.compute.json``."""
    result = Path(result)
    return result.with_name(result.name.split(".")[0] + RECORD_SUFFIX)


def read_record(path: str | Path) -> dict | None:
    """The record at ``path``, or None when there is none (or it is not one of ours)."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("attempts"), list) else None


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_host_mb() -> float:
    """The process's peak resident memory (Linux reports KiB), or its children's if larger."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(max(own.ru_maxrss, children.ru_maxrss) / 1024, 1)


class JobRecord:
    """The compute record of one job, as a context manager around its work.

    ``device``: the device line (``compute.device.device_line``); ``gpus``: GPUs the job holds (0 on a CPU);
    ``meter``: its energy meter (default: by ``device_kind``); ``peak_device_mb``: a callable giving the peak
    device memory in MB (None: not measured, as on a CPU, where host memory is the device's)."""

    def __init__(
        self,
        result: str | Path,
        stage: str,
        job: str,
        device: str,
        device_kind: str,
        gpus: int = 0,
        model: str | None = None,
        seed: int | None = None,
        meter: EnergyMeter | None = None,
        peak_device_mb=None,
    ) -> None:
        self.path = record_path(result)
        self.identity = {"stage": stage, "job": job, "model": model, "seed": seed, "result": str(result)}
        self.device = {"device": device, "device_kind": device_kind, "gpus": gpus}
        self.meter_factory = meter
        self.peak_device_mb = peak_device_mb
        self.numerics: dict = {}
        self.record: dict = {}
        self.attempt: dict = {}

    def __enter__(self) -> JobRecord:
        previous = read_record(self.path)
        attempts = [] if previous is None or _last_succeeded(previous) else previous["attempts"]
        for attempt in attempts:
            if attempt["status"] == "running":
                attempt["status"] = "killed"
        self.started, self.cpu_started = time.perf_counter(), _cpu_seconds()
        self.meter = self.meter_factory or energy_meter(str(self.device["device_kind"]))
        self.attempt = {
            "attempt": len(attempts) + 1,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": "running",
            **self.device,
            "epochs": 0,
        }
        self.record = {**self.identity, "attempts": [*attempts, self.attempt]}
        self._measure()
        return self

    def identify(self, model: str | None, seed: int | None) -> None:
        """The model and seed, where the job learns them from its input (evaluate: from the model file)."""
        self.identity.update(model=model, seed=seed)
        self.record.update(model=model, seed=seed)

    def set_numerics(self, numerics: dict) -> None:
        """The switches the job computes under (``compute.numerics.numerics``), once they are set."""
        self.attempt["numerics"] = numerics
        self._measure()

    def epoch_done(self, first_epoch: int, epoch: int) -> None:
        """After each epoch of a training job (before its checkpoint: an epoch redone after a kill is counted
        twice, as it was computed twice); this attempt ran epochs ``first_epoch`` to ``epoch``."""
        self.attempt.update(epochs=epoch - first_epoch + 1, first_epoch=first_epoch, last_epoch=epoch)
        self._measure()

    def __exit__(self, kind, error, traceback) -> Literal[False]:
        if (
            kind is not None
            and issubclass(kind, UserError)
            and self.attempt["attempt"] == 1
            and not self.attempt["epochs"]
        ):
            # Bad input refused before any work: it leaves no output, its record included (a later attempt that
            # fails after computing, or any attempt after an earlier one, is kept and counted).
            self.path.unlink(missing_ok=True)
            return False
        self.attempt["status"] = "succeeded" if kind is None else "failed"
        if kind is not None:
            self.attempt["error"] = (str(error).strip().splitlines() or [kind.__name__])[0][:300]
        self._measure()
        return False

    def _measure(self) -> None:
        peak_device = self.peak_device_mb() if self.peak_device_mb else None
        self.attempt.update(
            wall_s=round(time.perf_counter() - self.started, 3),
            cpu_s=round(_cpu_seconds() - self.cpu_started, 3),
            peak_host_mb=_peak_host_mb(),
            peak_device_mb=peak_device,
            **self.meter.reading(),
        )
        write_text_atomic(self.path, json.dumps(self.record, indent=2) + "\n")


def _last_succeeded(record: dict) -> bool:
    return bool(record["attempts"]) and record["attempts"][-1]["status"] == "succeeded"


def numerics_summary(values: dict | None) -> str:
    """One phrase for a table cell: ``float16 autocast, TF32 matmul on, cuDNN on, cudnn.benchmark off, eager``."""
    if not values:
        return "not recorded"
    autocast = values["autocast_dtype"]
    kind = "fp32" if autocast.startswith("none") else f"{autocast} autocast"
    parts = [kind if values["precision"] == "fp32" else f"{values['precision']}: {kind}"]
    tf32 = values["tf32_matmul"], values["tf32_cudnn"]
    if tf32 != (NOT_CUDA, NOT_CUDA):
        parts.append(f"TF32 matmul {'on' if tf32[0] else 'off'}, cuDNN {'on' if tf32[1] else 'off'}")
        parts.append(f"cudnn.benchmark {'on' if values['cudnn_benchmark'] else 'off'}")
    if values["deterministic_algorithms"]:
        parts.append("deterministic algorithms")
    parts.append("torch.compile" if values["compiled"] != "no" else "eager")
    return ", ".join(parts)


ATTEMPT_SCHEMA = {
    "type": "object",
    "required": ["status", "wall_s", "cpu_s", "peak_host_mb", "device", "gpus", "energy_method"],
    "properties": {
        "status": {"enum": ["running", "succeeded", "failed", "killed"]},
        "wall_s": NUMBER,
        "cpu_s": NUMBER,
        "peak_host_mb": NUMBER,
        "peak_device_mb": OPTIONAL_NUMBER,
        "energy_j": OPTIONAL_NUMBER,
        "epochs": {"type": "integer", "minimum": 0},
        "gpus": {"type": "integer", "minimum": 0},
        "device": {"type": "string"},
        "energy_method": {"type": "string"},
        "numerics": {"anyOf": [{"type": "object"}, {"type": "null"}]},
    },
}
RECORD_SCHEMA = {
    "type": "object",
    "required": ["stage", "job", "attempts"],
    "properties": {
        "stage": {"type": "string", "minLength": 1},
        "job": {"type": "string", "minLength": 1},
        "model": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "attempts": {"type": "array", "minItems": 1, "items": ATTEMPT_SCHEMA},
    },
}


def read_checked_record(path: str | Path) -> dict:
    """The compute record at ``path`` for the compute table, checked against its schema field by field (a
    missing, non-numeric or negative time is one line naming the file and the field)."""
    return read_checked(path, RECORD_SCHEMA, "compute record", "delete it or rerun its job")
