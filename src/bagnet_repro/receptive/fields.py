"""Receptive field and stride measured, not assumed: the support of the input gradient of one output unit.

A unit's gradient can vanish at a pixel by accident (a ReLU that is off for this input), so the support is
the union over several random inputs, computed in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ReceptiveField:
    size: tuple[int, int]  # rows, columns of input that one output unit depends on
    top_left: tuple[int, int]  # first input row and column of that unit's field
    stride: tuple[int, int]  # input shift between neighbouring output units


def _support(
    feature_fn: Callable[[torch.Tensor], torch.Tensor], input_size: int, row: int, col: int, trials: int, seed: int
) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    support = torch.zeros(input_size, input_size, dtype=torch.bool)
    for _ in range(trials):
        x = torch.randn(1, 3, input_size, input_size, dtype=torch.float64, generator=generator)
        x.requires_grad_(True)
        out = feature_fn(x)
        out[0, :, row, col].sum().backward()
        assert x.grad is not None  # x requires grad and the output depends on it (else backward raised)
        support |= x.grad[0].abs().sum(0) != 0
    return support


def _extent(support: torch.Tensor) -> tuple[tuple[int, int], tuple[int, int]]:
    rows = support.any(1).nonzero().flatten()
    cols = support.any(0).nonzero().flatten()
    size = (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1))
    return size, (int(rows[0]), int(cols[0]))


@torch.no_grad()
def _output_size(feature_fn, input_size: int) -> tuple[int, int]:
    return tuple(feature_fn(torch.zeros(1, 3, input_size, input_size, dtype=torch.float64)).shape[-2:])


def measure_receptive_field(
    feature_fn: Callable[[torch.Tensor], torch.Tensor], input_size: int, trials: int = 3, seed: int = 0
) -> ReceptiveField:
    """Receptive field of the central unit of ``feature_fn``'s map (B x C x h x w) and the map's stride.

    ``feature_fn`` must be in float64 and eval mode (e.g. ``model.double().eval().features``).
    """
    h, w = _output_size(feature_fn, input_size)
    row, col = h // 2, w // 2
    size, top_left = _extent(_support(feature_fn, input_size, row, col, trials, seed))
    stride = (0, 0)
    if row + 1 < h and col + 1 < w:
        _, next_top_left = _extent(_support(feature_fn, input_size, row + 1, col + 1, trials, seed))
        stride = (next_top_left[0] - top_left[0], next_top_left[1] - top_left[1])
    return ReceptiveField(size, top_left, stride)


LAYER_COLUMNS = (
    "layer",
    "kernel",
    "stride",
    "dilation",
    "padding",
    "input_size",
    "output_size",
    "receptive_field",
    "jump",
)


def _pair(value) -> int:
    return value[0] if isinstance(value, tuple) else value


def _on_main_path(name: str) -> bool:
    """Shortcut projections and attention gates do not lengthen the path the field is measured along."""
    return not any(part in name for part in ("downsample", "channel_gate", "spatial_gate"))


def layer_table(model: torch.nn.Module, input_size: int = 224) -> list[dict]:
    """Kernel, stride, padding, sizes and theoretical receptive field after each conv or pooling layer.

    Layers are visited in execution order (forward hooks); the field grows by (k - 1) * dilation * jump,
    where jump is the product of the strides so far, along the longest path through the network.
    """
    rows: list[dict] = []
    state = {"rf": 1, "jump": 1}
    kinds = (torch.nn.Conv2d, torch.nn.MaxPool2d, torch.nn.AvgPool2d)

    def hook(name):
        def record(module, inputs, output):
            kernel, stride = _pair(module.kernel_size), _pair(module.stride)
            dilation = _pair(getattr(module, "dilation", 1))
            state["rf"] += (kernel - 1) * dilation * state["jump"]
            state["jump"] *= stride
            rows.append(
                {
                    "layer": name,
                    "kernel": kernel,
                    "stride": stride,
                    "dilation": dilation,
                    "padding": _pair(module.padding),
                    "input_size": inputs[0].shape[-1],
                    "output_size": output.shape[-1],
                    "receptive_field": state["rf"],
                    "jump": state["jump"],
                }
            )

        return record

    handles = [
        m.register_forward_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, kinds) and _on_main_path(n)
    ]
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 3, input_size, input_size))
        model.train(was_training)
    finally:
        for handle in handles:
            handle.remove()
    return rows
