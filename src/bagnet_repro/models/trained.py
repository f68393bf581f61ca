"""The file of a fine-tuned model (``best.pt``): its format, written by training, read by every later stage.

Besides the weights it records what is needed to rebuild the network (name, head, classes) and to feed it
(image size), plus the epoch and validation scores it was kept for and the full training settings. It holds
only tensors, numbers, strings and lists and dicts of them, so it is read weights-only: a file from elsewhere
cannot run code when it is loaded (every ``best.pt`` this pipeline has written reads this way).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeGuard

import torch

from ..config.catalog import HEADS
from ..errors import UserError
from ..files.torchfile import TorchFileError, read_torch_file, save_torch_atomic
from .registry import build_model

# The keys every later stage reads, with the type each must have (val_acc and val_loss are informative only:
# the first versions of the pipeline wrote no val_loss).
RECORD_KEYS = {
    "model": str,
    "head": str,
    "classes": list,
    "image_size": int,
    "epoch": int,
    "settings": dict,
    "state_dict": dict,
}
REGENERATE = "delete it and rerun the train job that writes it to regenerate it"


def save_trained(
    path: str | Path,
    *,
    model: str,
    head: str,
    classes: list[str],
    image_size: int,
    epoch: int,
    val_acc: float,
    val_loss: float,
    settings: dict,
    state_dict: dict,
) -> None:
    """Write ``best.pt`` atomically (a reader never sees half a file)."""
    record = {
        "model": model,
        "head": head,
        "classes": list(classes),
        "image_size": image_size,
        "epoch": epoch,
        "val_acc": val_acc,
        "val_loss": val_loss,
        "settings": settings,
        "state_dict": state_dict,
    }
    save_torch_atomic(record, path)


def is_trained_file(saved: object) -> TypeGuard[dict]:
    """Whether ``saved`` claims to be a ``best.pt`` record (a bare or wrapped state dict does not)."""
    return isinstance(saved, dict) and "state_dict" in saved and "model" in saved and "classes" in saved


def record_problem(saved: dict) -> str | None:
    """What keeps ``saved`` (a record by ``is_trained_file``) from being used: a missing or mistyped key."""
    for key, kind in RECORD_KEYS.items():
        if key not in saved:
            return f"has no {key!r} key"
        if not isinstance(saved[key], kind) or isinstance(saved[key], bool):
            return f"has a {type(saved[key]).__name__} under {key!r}, not a {kind.__name__}"
    if saved["head"] not in HEADS:
        return f"has head {saved['head']!r}, not one of {', '.join(HEADS)}"
    if not all(isinstance(value, torch.Tensor) for value in saved["state_dict"].values()):
        return "has a 'state_dict' that is not all tensors"
    return None


def checked_record(saved: object, path: str | Path) -> dict:
    """``saved`` if it is a usable ``best.pt`` record, else one line naming ``path`` and the key at fault."""
    if not is_trained_file(saved):
        raise UserError(f"{path} is not a bagnet-repro checkpoint")
    problem = record_problem(saved)
    if problem:
        raise UserError(f"{path} is not a usable bagnet-repro checkpoint: it {problem}; {REGENERATE}")
    return saved


def read_trained(path: str | Path) -> dict:
    """The record of ``path``, read weights-only; one line naming the file when it is missing, unreadable,
    refused (it asks for code) or not a complete ``best.pt``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint not found: {path}")
    try:
        saved = read_torch_file(path)
    except TorchFileError as exc:
        advice = f"; if it is a best.pt of this pipeline, {REGENERATE}" if exc.unsafe else ""
        raise UserError(f"cannot read checkpoint {path}: {exc.reason}{advice}") from None
    return checked_record(saved, path)


def model_from_record(saved: dict, device: torch.device) -> torch.nn.Module:
    """The network a ``best.pt`` record describes, with its weights, on ``device`` in eval mode."""
    model = build_model(saved["model"], len(saved["classes"]), head=saved["head"], image_size=saved["image_size"])
    model.load_state_dict(saved["state_dict"])
    return model.to(device).eval()


def load_trained(path: str | Path, device: torch.device) -> tuple[torch.nn.Module, dict]:
    """The fine-tuned network of ``path`` on ``device`` in eval mode, and its record."""
    saved = read_trained(path)
    return model_from_record(saved, device), saved
