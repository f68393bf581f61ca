"""Out of memory, recognised alike on every device.

CUDA raises ``torch.OutOfMemoryError``; the CPU allocator raises a plain ``RuntimeError`` whose message
names it. Code that recovers from a batch that does not fit (the micro-batch split) and the CLI's last net
both ask ``is_out_of_memory``, which matches that allocator message only, so other RuntimeErrors (real
bugs) are never taken for a full memory. Torch-free: the CLI uses it before torch is imported.
"""

from __future__ import annotations

import re
import sys

# The CPU allocator's words ("can't allocate memory" since PyTorch 1.x, "not enough memory" on some builds).
_CPU_ALLOCATOR = re.compile(r"DefaultCPUAllocator: (can't allocate memory|not enough memory)")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation that did not fit, on the GPU or the CPU."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and bool(_CPU_ALLOCATOR.search(str(exc)))
