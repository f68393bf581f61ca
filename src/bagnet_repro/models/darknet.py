"""Darknet and CSPDarknet (the vision-backbones project of Thien Tran; YOLOv2/v3 and CSPNet), as multi-scale
backbones.

Darknet-53 is YOLOv3's backbone; Darknet-19 is YOLOv2's depth rebuilt with YOLOv3's parts (a stride-2 3x3
conv instead of max pooling + conv, and residual blocks). A CSP stage splits the downsampled map into two
1x1 halves, runs the residual blocks on one of them and fuses the concatenation with a 1x1 conv; a stage
without blocks (CSPDarknet-19's first) is its stride-2 conv alone, as in the original code.

Every Conv-BN unit is followed by ReLU, as in the original code; YOLO's LeakyReLU(0.1) is the option
``activation="leaky_relu"``. The widths are the corrected ones (256 and 512 where the code the vision-toolbox table
was measured with had the typos 258 and 612).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import UserError
from .layers import ConvNormAct, MultiScaleBackbone

STEM_WIDTH = 32
STAGE_WIDTHS = (64, 128, 256, 512, 1024)
LEAKY_SLOPE = 0.1  # YOLO's

Activation = Callable[[], nn.Module]
ACTIVATIONS: dict[str, Activation] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE, inplace=True),
}


def activation_factory(name: str) -> Activation:
    """The activation a Darknet unit uses: ``relu`` (the original code's) or ``leaky_relu`` (YOLO's 0.1)."""
    if name not in ACTIVATIONS:
        raise UserError(f"unknown Darknet activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


@dataclass(frozen=True)
class DarknetConfig:
    """Residual blocks per stage (each stage starts with a stride-2 3x3 conv) and whether stages are CSP."""

    blocks: tuple[int, ...]
    csp: bool = False


DARKNET_CONFIGS = {
    "darknet19": DarknetConfig(blocks=(0, 1, 1, 2, 2)),
    "darknet53": DarknetConfig(blocks=(1, 2, 8, 8, 4)),
    "cspdarknet19": DarknetConfig(blocks=(0, 1, 1, 2, 2), csp=True),
    "cspdarknet53": DarknetConfig(blocks=(1, 2, 8, 8, 4), csp=True),
}


class DarknetBlock(nn.Module):
    """x + 3x3(1x1(x)): a 1x1 conv to ``hidden`` channels (Darknet: half the width) and a 3x3 conv back."""

    def __init__(self, channels: int, hidden: int, activation: Activation) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(channels, hidden, 1, activation=activation)
        self.conv2 = ConvNormAct(hidden, channels, 3, activation=activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))


class DarknetStage(nn.Sequential):
    """A stride-2 3x3 conv to ``out_channels``, then ``blocks`` residual blocks."""

    def __init__(self, in_channels: int, out_channels: int, blocks: int, activation: Activation) -> None:
        super().__init__(
            ConvNormAct(in_channels, out_channels, 3, 2, activation=activation),
            *[DarknetBlock(out_channels, out_channels // 2, activation) for _ in range(blocks)],
        )


class CSPDarknetStage(nn.Module):
    """A stride-2 conv, two 1x1 halves, residual blocks on one half, concatenation and a 1x1 fusion.

    The blocks keep the half's width inside (no bottleneck), as CSPNet's Darknet-53 does. With no blocks
    there is nothing to split around, so the stage is the stride-2 conv alone (the original's layout).
    """

    def __init__(self, in_channels: int, out_channels: int, blocks: int, activation: Activation) -> None:
        super().__init__()
        half = out_channels // 2
        self.down = ConvNormAct(in_channels, out_channels, 3, 2, activation=activation)
        self.partial = blocks > 0
        if self.partial:
            self.shortcut = ConvNormAct(out_channels, half, 1, activation=activation)
            self.main = ConvNormAct(out_channels, half, 1, activation=activation)
            self.blocks = nn.Sequential(*[DarknetBlock(half, half, activation) for _ in range(blocks)])
            self.fuse = ConvNormAct(out_channels, out_channels, 1, activation=activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down(x)
        if not self.partial:
            return x
        return self.fuse(torch.cat([self.shortcut(x), self.blocks(self.main(x))], dim=1))


def _darknet(config: DarknetConfig, activation: str) -> MultiScaleBackbone:
    make_activation = activation_factory(activation)
    stage_type = CSPDarknetStage if config.csp else DarknetStage
    widths = (STEM_WIDTH,) + STAGE_WIDTHS
    stages = [stage_type(widths[i], widths[i + 1], blocks, make_activation) for i, blocks in enumerate(config.blocks)]
    return MultiScaleBackbone(
        ConvNormAct(3, STEM_WIDTH, 3, activation=make_activation), stages, list(STAGE_WIDTHS), [2, 4, 8, 16, 32]
    )


def darknet19(activation: str = "relu") -> MultiScaleBackbone:
    """Darknet-19: YOLOv2's depth with stride-2 convs and residual blocks (0, 1, 1, 2, 2)."""
    return _darknet(DARKNET_CONFIGS["darknet19"], activation)


def darknet53(activation: str = "relu") -> MultiScaleBackbone:
    """Darknet-53: YOLOv3's backbone, residual blocks (1, 2, 8, 8, 4)."""
    return _darknet(DARKNET_CONFIGS["darknet53"], activation)


def cspdarknet19(activation: str = "relu") -> MultiScaleBackbone:
    """CSPDarknet-19: Darknet-19 with cross-stage partial stages (the first, without blocks, is its conv)."""
    return _darknet(DARKNET_CONFIGS["cspdarknet19"], activation)


def cspdarknet53(activation: str = "relu") -> MultiScaleBackbone:
    """CSPDarknet-53: Darknet-53 with cross-stage partial stages (YOLOv4's backbone family)."""
    return _darknet(DARKNET_CONFIGS["cspdarknet53"], activation)
