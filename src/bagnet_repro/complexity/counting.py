"""Parameters and FLOPs, counted the way the table states.

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode``, which counts convolutions and matrix
products only, each multiply-add as 2 FLOPs. Batch norm, activations, pooling, additions and the
squeeze-excitation gates' products are not counted: a few percent of the total in networks made mostly
of 1x1 and depth-wise convolutions (MobileNetV3, EfficientNet), well under 1% elsewhere.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def count_flops(module: nn.Module, input_shape: tuple[int, ...] = (1, 3, 224, 224)) -> int:
    """FLOPs (2 x multiply-adds of convolutions and matmuls) of one forward pass in eval mode.

    The input is made on the module's device, so a module built on the meta device is counted without
    memory or arithmetic (what the tests do for the largest networks).
    """
    device = next(module.parameters()).device
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(torch.zeros(input_shape, device=device))
    finally:
        module.train(was_training)
    return counter.get_total_flops()
