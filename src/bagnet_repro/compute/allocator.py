"""Freed tensors given back to the system, so that a tiled pass stays within its memory budget on Linux.

glibc's malloc serves a large request by mmap and returns it at free, but after the first such free it raises
that threshold to the size freed (up to 32 MB): from then on a tile's activations (27 MB each for a 328 x 328
window of a BagNet) come from the heap, whose freed holes it keeps. A 1200 x 900 image at --memory-mb 450 (12
tile shapes) thus kept about 400 MB after its forwards, and peaked at 739 MB. A fixed threshold just above the
network's largest weight (its reordered copy, made at every convolution, is as large, and stays in the heap)
and a trim after each large tile keep that peak near one tile's. Elsewhere (macOS, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import platform

MB = 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    return ctypes.CDLL("libc.so.6")


_LIBC = _glibc()


def fix_mmap_threshold(largest_weight_bytes: int) -> None:
    """Requests above the largest weight by mmap, returned at free; the heap's top trimmed above twice that,
    glibc's own ratio. Weight-sized requests and smaller keep reusing the heap, so small tiles pay no faults."""
    if _LIBC is None:
        return
    threshold = (largest_weight_bytes // MB + 2) * MB
    _LIBC.mallopt(_M_MMAP_THRESHOLD, threshold)
    _LIBC.mallopt(_M_TRIM_THRESHOLD, 2 * threshold)


def give_back_freed() -> None:
    """The heap's free pages returned to the system (a few thousand page faults, about 10 ms, when it regrows)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
