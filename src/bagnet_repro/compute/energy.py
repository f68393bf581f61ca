"""Energy from hardware counters only: NVIDIA's management library on GPUs, the kernel's RAPL counters on CPUs.

GPUs: ``nvmlDeviceGetTotalEnergyConsumption`` (millijoules since the driver loaded) through the official binding
``pynvml`` (package ``nvidia-ml-py``), imported only when a job runs on CUDA. CPUs: the package zones of
``/sys/class/powercap/intel-rapl:N/energy_uj`` (microjoules, wrapping at ``max_energy_range_uj``), often readable
by root alone. Both count the whole device, every process on it, not this job alone. Where no counter can be
read, the reading is ``None`` with the reason: never an estimate in a measurement's place.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

POWERCAP = Path("/sys/class/powercap")
NOT_MEASURED = "not measured"
# The package zones (intel-rapl:0, :1, ...); their sub-zones (intel-rapl:0:0, cores, dram) are inside them.
PACKAGE_ZONE = re.compile(r"intel-rapl:\d+$")


@dataclass
class Counter:
    """A cumulative energy counter in joules (``read``), or None with ``method`` saying why there is none."""

    method: str
    read: Callable[[], float] | None = None


def nvml_counter(gpu_uuids: list[str]) -> Counter:
    """The summed energy counters of the GPUs with ``gpu_uuids`` (``GPU-...`` as NVML writes them)."""
    try:
        pynvml = importlib.import_module("pynvml")
    except ImportError:
        return Counter(f"{NOT_MEASURED}: the NVML binding pynvml (package nvidia-ml-py) is not installed")
    try:
        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByUUID(uuid) for uuid in gpu_uuids]
        for handle in handles:  # GPUs before Volta have no counter: refuse here, not at the end
            pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    except pynvml.NVMLError as error:
        return Counter(f"{NOT_MEASURED}: NVML has no energy counter for these GPUs ({error})")

    def read() -> float:
        return sum(pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) for handle in handles) / 1e3

    return Counter(f"NVML total energy of {len(handles)} GPU(s), whole device", read)


class _RaplZones:
    """The package zones' counters summed, each unwrapped at its ``max_energy_range_uj``."""

    def __init__(self, zones: list[Path]) -> None:
        self.zones = zones
        self.ranges = [int((zone / "max_energy_range_uj").read_text()) for zone in zones]
        self.last = [self._raw(zone) for zone in zones]
        self.total_uj = 0

    @staticmethod
    def _raw(zone: Path) -> int:
        return int((zone / "energy_uj").read_text())

    def read(self) -> float:
        for index, zone in enumerate(self.zones):
            raw = self._raw(zone)
            step = raw - self.last[index]
            self.total_uj += step if step >= 0 else step + self.ranges[index]
            self.last[index] = raw
        return self.total_uj / 1e6


def rapl_counter(powercap: Path = POWERCAP) -> Counter:
    """The CPU packages' RAPL counters under ``powercap``, if the kernel exposes them and they are readable."""
    zones = sorted(path for path in powercap.glob("intel-rapl:*") if PACKAGE_ZONE.search(path.name))
    if not zones:
        return Counter(f"{NOT_MEASURED}: {powercap} has no RAPL package zone (no counter on this machine)")
    try:
        counter = _RaplZones(zones)
    except (OSError, ValueError) as error:
        return Counter(f"{NOT_MEASURED}: the RAPL counters are not readable ({error.__class__.__name__})")
    return Counter(f"RAPL energy of {len(zones)} CPU package(s), whole socket", counter.read)


class EnergyMeter:
    """Joules spent since it was made, by ``counter``; ``None`` (with the reason) where there is no counter."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.start = counter.read() if counter.read else None

    def reading(self) -> dict:
        if self.counter.read is None or self.start is None:
            return {"energy_j": None, "energy_method": self.counter.method}
        return {"energy_j": round(self.counter.read() - self.start, 3), "energy_method": self.counter.method}


def energy_meter(device_kind: str, gpu_uuids: list[str] | None = None, powercap: Path = POWERCAP) -> EnergyMeter:
    """The meter of a job on ``device_kind`` (``cuda``: NVML over ``gpu_uuids``; else RAPL)."""
    if device_kind == "cuda":
        return EnergyMeter(nvml_counter(gpu_uuids or []))
    return EnergyMeter(rapl_counter(powercap))
