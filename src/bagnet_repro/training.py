"""Fine-tuning with the report's recipe: Adam, fixed epochs, keep the best-validation weights.

A checkpoint is written atomically after every epoch (outside the rule's outputs), and a rerun with the
same settings continues from it, so a killed job loses at most one epoch. The shuffling order of an
epoch depends only on (seed, epoch), so a resumed run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .data.classes import REPORT_CLASSES
from .data.inventory import read_records
from .data.loading import ImageSet, load_split, normalize
from .device import resolve_device
from .errors import UserError
from .fileio import atomic_path, write_table_atomic
from .models import build_model

HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "is_best", "seconds")


@dataclass(frozen=True)
class TrainSettings:
    model: str
    image_size: int = 224
    epochs: int = 40
    batch_size: int = 4
    lr: float = 4e-5
    weight_decay: float = 0.0
    head: str = "report"
    weights: str | dict | None = None
    seed: int = 152
    device: str = "auto"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1000 + epoch)
    return torch.randperm(n, generator=generator)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 64,
            desc: str = "eval") -> torch.Tensor:
    """Logits for a uint8 image tensor, in batches, in eval mode."""
    model.eval()
    outputs = []
    for start in tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", mininterval=1.0, leave=False):
        batch = normalize(images[start:start + batch_size]).to(device)
        outputs.append(model(batch).float().cpu())
    return torch.cat(outputs)


def _train_epoch(model, optimizer, data: ImageSet, settings: TrainSettings, device, epoch: int) -> tuple[float, float]:
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    order = epoch_order(len(data.labels), settings.seed, epoch)
    total_loss, correct = 0.0, 0
    batches = range(0, len(order), settings.batch_size)
    progress = tqdm(batches, desc=f"{settings.model} epoch {epoch}", unit="batch", mininterval=1.0)
    for step, start in enumerate(progress, start=1):
        index = order[start:start + settings.batch_size]
        inputs = normalize(data.images[index]).to(device)
        targets = data.labels[index].to(device)
        optimizer.zero_grad(set_to_none=True)
        logits = model(inputs)
        loss = loss_fn(logits, targets)
        if not torch.isfinite(loss):
            raise UserError(f"training {settings.model}: non-finite loss ({loss.item()}) at epoch {epoch}, "
                            f"step {step}; lower train.lr or check the data")
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(index)
        correct += (logits.argmax(1) == targets).sum().item()
        progress.set_postfix(loss=f"{total_loss / (start + len(index)):.3f}")
    return total_loss / len(order), correct / len(order)


def _settings_key(settings: TrainSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def _save(obj: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def train(manifest_path: str, settings: TrainSettings, best_path: str, history_path: str,
          checkpoint_path: str, weights_cache: str | None = None) -> dict:
    """Train ``settings.model`` and write the best-validation weights and the per-epoch history."""
    seed_everything(settings.seed)
    device = resolve_device(settings.device)
    manifest = read_records(manifest_path)
    train_set = load_split(manifest, "train", settings.image_size)
    val_set = load_split(manifest, "val", settings.image_size)
    model = build_model(settings.model, len(REPORT_CLASSES), weights=settings.weights, head=settings.head,
                        cache=weights_cache)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    loss_fn = nn.CrossEntropyLoss()

    checkpoint_path = Path(checkpoint_path)
    state = {"epoch": 0, "best_val_acc": -1.0, "best_epoch": 0, "best_state": None, "history": []}
    if checkpoint_path.exists():
        saved = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        if saved.get("settings") == _settings_key(settings):
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            torch.set_rng_state(saved["torch_rng"])
            state = saved["state"]
            print(f"resuming {settings.model} after epoch {state['epoch']} from {checkpoint_path}")
        else:
            print(f"ignoring {checkpoint_path}: it was written with different settings")

    for epoch in range(state["epoch"] + 1, settings.epochs + 1):
        started = time.perf_counter()
        train_loss, train_acc = _train_epoch(model, optimizer, train_set, settings, device, epoch)
        val_logits = predict(model, val_set.images, device, desc="validate")
        val_loss = loss_fn(val_logits, val_set.labels).item()
        val_acc = (val_logits.argmax(1) == val_set.labels).float().mean().item()
        is_best = val_acc > state["best_val_acc"]
        if is_best:
            state.update(best_val_acc=val_acc, best_epoch=epoch,
                         best_state={k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        state["history"].append({"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                                 "val_loss": val_loss, "val_acc": val_acc, "is_best": int(is_best),
                                 "seconds": round(time.perf_counter() - started, 3)})
        state["epoch"] = epoch
        print(f"{settings.model} epoch {epoch}/{settings.epochs}: train_loss {train_loss:.4f} "
              f"train_acc {train_acc:.4f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}", flush=True)
        _save({"settings": _settings_key(settings), "model": model.state_dict(),
               "optimizer": optimizer.state_dict(), "torch_rng": torch.get_rng_state(), "state": state},
              checkpoint_path)

    if state["best_state"] is None:
        raise UserError(f"training {settings.model}: train.epochs must be at least 1")
    write_table_atomic(history_path, HISTORY_COLUMNS, state["history"], delimiter=",")
    _save({"model": settings.model, "head": settings.head, "classes": list(REPORT_CLASSES),
           "image_size": settings.image_size, "epoch": state["best_epoch"], "val_acc": state["best_val_acc"],
           "settings": asdict(settings), "state_dict": state["best_state"]}, Path(best_path))
    return {"best_epoch": state["best_epoch"], "best_val_acc": state["best_val_acc"]}
