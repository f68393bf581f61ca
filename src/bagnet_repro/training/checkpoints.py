"""The resume checkpoint: the generators it carries (the rest: state.py), when it continues a run, and its
removal once the run is complete.

Written atomically after every epoch (outside the rule's outputs); a rerun with the same settings and data continues
from it, so a killed job loses at most one epoch. Every generator's state travels with it, and an epoch's shuffling
depends only on (seed, epoch), so a resumed run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..files.torchfile import TorchFileError, read_torch_file


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_states() -> dict:
    """Every generator's state as tensors and plain data, so the checkpoint reads weights-only."""
    legacy = np.random.get_state(legacy=True)  # (kind, keys, position, has_gauss, gauss)
    assert isinstance(legacy, tuple)
    kind, keys, position, has_gauss, gauss = legacy
    states = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["gauss"],
        )
    )
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def read_resume_checkpoint(path: Path, key: str, data_file: str, data_key: str) -> dict | None:
    """The resume checkpoint at ``path`` if it continues this run, else None (with a word why).

    A checkpoint records ``data_key``, the digest of the data listing it was trained on (``data_file``, the
    manifest or split table):
    resuming on other data would mix epochs of two data sets, so that is refused with one line saying
    what to delete. An unreadable checkpoint is refused the same way, never silently replaced.
    """
    if not path.exists():
        return None
    try:
        saved = read_torch_file(path)  # weights-only: earlier checkpoints (numpy RNG objects) are refused
    except TorchFileError as exc:
        raise UserError(
            f"cannot read the resume checkpoint {path}: {exc.reason}; delete it to start this run over"
        ) from None
    if not isinstance(saved, dict) or "state" not in saved:
        raise UserError(f"{path} is not a resume checkpoint of this pipeline; delete it to start this run over")
    if saved.get("data") != data_key:
        raise UserError(
            f"{path} was written on other data ({data_file} has changed since); delete it to start "
            "this run over on the new data"
        )
    if saved.get("settings") != key:
        print(f"ignoring {path}: it was written with different settings; starting over", flush=True)
        return None
    return saved


def discard_checkpoint(path: Path) -> None:
    """Delete a finished run's resume checkpoint: its outputs are written, and the checkpoint (weights,
    optimizer state and the best weights, several times the model's size) would only fill the disk."""
    if path.exists():
        path.unlink()
        print(f"removed the resume checkpoint {path}: the run is complete", flush=True)
