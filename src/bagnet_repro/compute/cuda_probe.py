"""What the machine's NVIDIA driver offers, asked without starting CUDA.

torch only says "CUDA is not available"; a job needs the reason (no driver, a driver too old for the wheels'
CUDA) to fail in one line, and it must count the GPUs before CUDA starts, because CUDA_VISIBLE_DEVICES is read
only once, when CUDA starts (gpu_slots.py sets it). So this module asks the driver's own libraries directly:
libcuda's cuDriverGetVersion (no cuInit needed) and NVML. Every answer is None where the library is missing.
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path


def _library(name: str) -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def driver_cuda_version() -> tuple[int, int] | None:
    """The newest CUDA the installed driver supports, e.g. (12, 2), or None without a driver (no libcuda)."""
    libcuda = _library("libcuda.so.1")
    if libcuda is None:
        return None
    version = ctypes.c_int(0)
    if libcuda.cuDriverGetVersion(ctypes.byref(version)) != 0 or version.value <= 0:
        return None
    return version.value // 1000, version.value % 1000 // 10


def _nvml() -> ctypes.CDLL | None:
    nvml = _library("libnvidia-ml.so.1")
    if nvml is None or nvml.nvmlInit_v2() != 0:
        return None
    return nvml


def driver_version() -> str | None:
    """The driver's release, e.g. '535.104.05' (NVML, else /proc/driver/nvidia/version), or None."""
    nvml = _nvml()
    if nvml is not None:
        buffer = ctypes.create_string_buffer(96)
        if nvml.nvmlSystemGetDriverVersion(buffer, ctypes.c_uint(96)) == 0:
            return buffer.value.decode(errors="replace")
    try:
        match = re.search(r"Kernel Module\s+(\S+)", Path("/proc/driver/nvidia/version").read_text())
    except OSError:
        return None
    return match.group(1) if match else None


def physical_gpu_count() -> int:
    """GPUs on this machine whatever CUDA_VISIBLE_DEVICES says (NVML, else /proc/driver/nvidia/gpus), 0 if none."""
    nvml = _nvml()
    if nvml is not None:
        count = ctypes.c_uint(0)
        if nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0:
            return count.value
    try:
        return sum(1 for _ in Path("/proc/driver/nvidia/gpus").iterdir())
    except OSError:
        return 0
