"""The numerics a job computes under, read from torch's switches as they stand: autocast, TF32, cuDNN, compilation.

BagNets-v2's authors found the original BagNet33 2.5 points of top-1 lower under TF32 and 8.7 under fp16, so every
result records these beside it (the job's compute record, the metrics).
"""

from __future__ import annotations

import torch

from .accounting import NOT_CUDA


def numerics(
    device: torch.device,
    precision: str,
    autocast_dtype: torch.dtype | None,
    compiled: bool = False,
    channels_last: bool = False,
) -> dict:
    """The switches in force on ``device`` now; ``precision`` is the setting, ``autocast_dtype`` what it became."""
    on_cuda = device.type == "cuda"
    cudnn = torch.backends.cudnn
    return {
        "precision": precision,
        "autocast_dtype": str(autocast_dtype).removeprefix("torch.") if autocast_dtype is not None else "none (fp32)",
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32 if on_cuda else NOT_CUDA,
        "tf32_cudnn": cudnn.allow_tf32 if on_cuda else NOT_CUDA,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn_benchmark": cudnn.benchmark if on_cuda else NOT_CUDA,
        "cudnn_deterministic": cudnn.deterministic if on_cuda else NOT_CUDA,
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "compiled": "torch.compile" if compiled else "no",
        "channels_last": channels_last,
    }
