"""Forward latency: the median of repeated timed passes after warm-up, on the device that runs the job."""

from __future__ import annotations

import statistics

import torch
from torch import nn

from ..compute.device import timed


def forward_latency_ms(
    module: nn.Module, batch: int, size: int, device: torch.device, repeats: int, warmup: int = 1
) -> float:
    """Median milliseconds of ``repeats`` eval-mode forward passes of a ``batch x 3 x size x size`` input."""
    module = module.eval().to(device)
    images = torch.randn(batch, 3, size, size, device=device)
    times = []
    with torch.inference_mode():
        for index in range(warmup + repeats):
            _, seconds = timed(lambda: module(images), device)
            if index >= warmup:
                times.append(seconds * 1000)
    return statistics.median(times)
