"""The file of a fine-tuned model (``best.pt``): its format, written by training, read by every later stage.

Besides the weights it records what is needed to rebuild the network (name, head, classes) and to feed it
(image size), plus the epoch and validation scores it was kept for and the full training settings.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import UserError
from ..fileio import save_torch_atomic
from .registry import build_model


def save_trained(path: str | Path, *, model: str, head: str, classes: list[str], image_size: int, epoch: int,
                 val_acc: float, val_loss: float, settings: dict, state_dict: dict) -> None:
    """Write ``best.pt`` atomically (a reader never sees half a file)."""
    record = {"model": model, "head": head, "classes": list(classes), "image_size": image_size, "epoch": epoch,
              "val_acc": val_acc, "val_loss": val_loss, "settings": settings, "state_dict": state_dict}
    save_torch_atomic(record, path)


def is_trained_file(saved: object) -> bool:
    return isinstance(saved, dict) and "state_dict" in saved and "model" in saved and "classes" in saved


def read_trained(path: str | Path) -> dict:
    """The record of ``path``; one line naming the file when it is missing or not a ``best.pt``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint not found: {path}")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # truncated or foreign files raise several types
        raise UserError(f"cannot read checkpoint {path}: {str(exc).splitlines()[0]}") from None
    if not is_trained_file(saved):
        raise UserError(f"{path} is not a bagnet-repro checkpoint")
    return saved


def model_from_record(saved: dict, device: torch.device) -> torch.nn.Module:
    """The network a ``best.pt`` record describes, with its weights, on ``device`` in eval mode."""
    model = build_model(saved["model"], len(saved["classes"]), head=saved["head"])
    model.load_state_dict(saved["state_dict"])
    return model.to(device).eval()


def load_trained(path: str | Path, device: torch.device) -> tuple[torch.nn.Module, dict]:
    """The fine-tuned network of ``path`` on ``device`` in eval mode, and its record."""
    saved = read_trained(path)
    return model_from_record(saved, device), saved
