"""Precision study (BagNets-v2): how much do TF32, bf16 and fp16 move a model's logits and accuracy?

The original ImageNet BagNets carry "dead" conv layers (weights around 1e-7) whose noise reduced
precision amplifies. ``dead_layer_census`` finds them; ``precision_rows`` evaluates one model under each
numeric mode against fp32. Modes a device cannot run are reported with the reason, never skipped.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..compute.device import resolve_device
from ..data.inventory import read_records
from ..data.loading import load_split
from ..errors import UserError
from ..files.atomic import write_table_atomic
from ..models import get_bagnet
from ..models.trained import load_trained
from .inference import AUTOCAST_DTYPES, predict

MODES = ("fp32", "tf32", "bf16", "fp16")
DEAD_THRESHOLD = 1e-6


def dead_layer_census(model: nn.Module, threshold: float = DEAD_THRESHOLD) -> list[dict]:
    """Per conv layer: largest |weight|, and the share of output filters whose largest |weight| < threshold."""
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            per_filter = module.weight.detach().abs().flatten(1).amax(dim=1)
            rows.append(
                {
                    "layer": name,
                    "filters": per_filter.numel(),
                    "max_abs_weight": float(per_filter.max()),
                    "dead_filter_fraction": float((per_filter < threshold).float().mean()),
                    "dead_layer": bool(per_filter.max() < threshold),
                }
            )
    return rows


def weight_histogram(model: nn.Module, bins: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Counts of all conv weights over symmetric bins (for the log-scale distribution figure)."""
    weights = torch.cat([m.weight.detach().flatten() for m in model.modules() if isinstance(m, nn.Conv2d)])
    limit = float(weights.abs().max()) or 1.0
    counts, edges = np.histogram(weights.float().cpu().numpy(), bins=bins, range=(-limit, limit))
    return counts, edges


@contextlib.contextmanager
def tf32_allowed(allowed: bool):
    """Switch TF32 for CUDA matmuls and convolutions, restoring the previous setting afterwards."""
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = allowed
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def unavailable_reason(mode: str, device: torch.device) -> str | None:
    if mode == "tf32":
        if device.type != "cuda":
            return "TF32 exists only on NVIDIA GPUs (Ampere or later)"
        if torch.cuda.get_device_capability(device)[0] < 8:
            return "this GPU has no TF32 tensor cores"
    if mode == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return "this GPU does not support bf16"
    return None


def _logits(model: nn.Module, images: torch.Tensor, device: torch.device, mode: str, batch_size: int) -> torch.Tensor:
    """Logits of uint8 ``images`` in one numeric mode: fp32 (TF32 off), tf32, or bf16/fp16 autocast."""
    with tf32_allowed(mode == "tf32"):
        return predict(model, images, device, batch_size, desc=mode, autocast_dtype=AUTOCAST_DTYPES.get(mode))


def precision_rows(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor | None, device: torch.device, batch_size: int = 64
) -> list[dict]:
    """Accuracy (when labels are given) and max |logit - fp32 logit| per numeric mode."""
    model.eval().to(device)
    reference = _logits(model, images, device, "fp32", batch_size)
    rows: list[dict[str, str | float | None]] = []
    for mode in MODES:
        reason = unavailable_reason(mode, device)
        if reason:
            rows.append(
                {
                    "mode": mode,
                    "status": f"not run: {reason}",
                    "accuracy": None,
                    "max_abs_logit_diff": None,
                    "top1_agreement": None,
                }
            )
            continue
        logits = reference if mode == "fp32" else _logits(model, images, device, mode, batch_size)
        rows.append(
            {
                "mode": mode,
                "status": "ok",
                "accuracy": None if labels is None else float((logits.argmax(1) == labels).double().mean()),
                "max_abs_logit_diff": float((logits - reference).abs().max()),
                "top1_agreement": float((logits.argmax(1) == reference.argmax(1)).double().mean()),
            }
        )
    return rows


def run_precision(
    manifest_path: str,
    table_path: str,
    census_path: str,
    histogram_path: str,
    *,
    checkpoint: str | None = None,
    imagenet_model: str | None = None,
    image_size: int = 224,
    weights_cache: str | None = None,
    weights_file: Path | None = None,
    max_images: int | None = None,
    batch_size: int = 64,
    device: str = "auto",
) -> list[dict]:
    """The precision study of one model: a fine-tuned ``checkpoint``, or an original BagNet with its
    ImageNet weights (``imagenet_model``; 1000 classes, so agreement and logit drift only), loaded from
    ``weights_file`` (the file fetch-weights recorded) when given, else from ``weights_cache``."""
    dev = resolve_device(device)
    if checkpoint:
        model, saved = load_trained(checkpoint, dev)
        name, size, with_labels = saved["model"], saved["image_size"], True
    elif imagenet_model is None:
        raise UserError("precision: give either a checkpoint or an original BagNet's name (--checkpoint or --model)")
    else:
        model = get_bagnet(imagenet_model, weights="imagenet", cache=weights_cache, weights_file=weights_file)
        model = model.to(dev).eval()
        name, size, with_labels = f"{imagenet_model} (ImageNet weights)", image_size, False
    test = load_split(read_records(manifest_path), "test", size)
    images, labels = test.images[:max_images], test.labels[:max_images]  # None: all
    rows = [
        {"model": name, "n_images": len(images), **row}
        for row in precision_rows(model, images, labels if with_labels else None, dev, batch_size)
    ]
    census = [{"model": name, **row} for row in dead_layer_census(model)]
    counts, edges = weight_histogram(model)
    write_table_atomic(table_path, list(rows[0]), rows)
    write_table_atomic(census_path, list(census[0]), census)
    write_table_atomic(
        histogram_path,
        ["model", "bin_low", "bin_high", "count"],
        [
            {"model": name, "bin_low": lo, "bin_high": hi, "count": int(c)}
            for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)
        ],
    )
    return rows
