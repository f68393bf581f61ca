"""Reading a torch file that may have come from anywhere: tensors and plain data, never code.

``torch.load`` unpickles, and a pickle can call any function while it loads. Every file the package reads
(``best.pt``, resume checkpoints, state dicts, ``explain --weights``) goes through ``read_torch_file``, which
loads with ``weights_only=True``: only tensors, numbers, strings, None and lists, tuples and dicts of them.
Anything else is refused before it is built, and the reason is one line that does not suggest the unsafe
way round it (torch's own message does).
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from pathlib import Path

from ..errors import UserError
from .atomic import atomic_path


class TorchFileError(Exception):
    """A file that is not plain torch data: ``reason`` is one line; ``unsafe`` when it asked for code."""

    def __init__(self, reason: str, unsafe: bool) -> None:
        super().__init__(reason)
        self.reason, self.unsafe = reason, unsafe


def read_torch_file(path: str | Path) -> object:
    """``torch.load(path, weights_only=True)`` on the CPU; a refused or unreadable file is a TorchFileError."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "pickle protocol 4": the refusal below says all there is
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for refused, truncated or foreign files
        raise _explained(exc) from None


def _explained(exc: Exception) -> TorchFileError:
    text = str(exc)
    wanted = re.search(r"GLOBAL ([\w.]+)", text)
    if wanted:
        return TorchFileError(
            f"it asks for {wanted.group(1)}, not only tensors and plain data, and was not "
            "loaded (loading it could run code)",
            unsafe=True,
        )
    if "Weights only load failed" in text:
        operand = re.search(r"Unsupported operand (\d+)", text)
        detail = f" (pickle operation {operand.group(1)})" if operand else ""
        return TorchFileError(
            f"it is not a torch file of tensors and plain data{detail} and was not loaded", unsafe=True
        )
    if isinstance(exc, EOFError) or not text.strip():
        return TorchFileError("the file is empty or cut short", unsafe=False)
    first = text.strip().splitlines()[0]
    return TorchFileError(first.split(". ")[0].rstrip("."), unsafe=False)


def save_torch_atomic(obj: object, target: str | os.PathLike) -> None:
    """``torch.save`` atomically. A failed write inside torch's archive writer surfaces as an opaque
    RuntimeError; it becomes one line naming the file and the space left on its disk."""
    import torch

    target = Path(target)
    with atomic_path(target) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as exc:
            free = shutil.disk_usage(target.parent).free
            raise UserError(
                f"cannot write {target}: the write failed ({free / 2**20:.0f} MiB free on its disk; "
                f"torch: {str(exc).splitlines()[0]})"
            ) from None
