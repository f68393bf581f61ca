"""Inference on in-memory uint8 images: batched, in eval mode, optionally under autocast.

Shared by validation during training, evaluation, the precision study and heatmap selection, so that
every number of the report comes from the same forward pass.
"""

from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from ..compute.device import to_device
from ..data.loading import normalize

# Autocast dtype of each training/evaluation precision (fp32: no autocast); the choices are those of
# config/train_settings.py's PRECISIONS, with ``auto``: bf16 on CUDA, where it is fast and needs no loss scaling; fp32
# elsewhere (CPU autocast is slow). A test holds the two equal.
AUTOCAST_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``precision`` on ``device`` (None: no autocast)."""
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else None
    return AUTOCAST_DTYPES[precision]


@torch.inference_mode()
def predict(
    model: nn.Module,
    images: torch.Tensor,
    device: torch.device,
    batch_size: int = 64,
    desc: str = "eval",
    autocast_dtype: torch.dtype | None = None,
    channels_last: bool = False,
    statistics: tuple | None = None,
) -> torch.Tensor:
    """Logits (fp32, on the CPU) for a uint8 image tensor (on the host or already on ``device``), in batches,
    in eval mode (normalized with ImageNet's statistics unless ``statistics`` (mean, std) are given).

    The uint8 batch is what crosses to the device (a quarter of the float bytes), and the logits stay there
    until the end, so the host waits for the device once."""
    model.eval()
    outputs = []
    for start in tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", mininterval=1.0, leave=False):
        batch = to_device(images[start : start + batch_size], device)
        batch = normalize(batch) if statistics is None else normalize(batch, statistics)
        if channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            outputs.append(model(batch).float())
    return torch.cat(outputs).cpu()
