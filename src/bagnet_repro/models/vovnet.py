"""VoVNet V1/V2 (from the vision-toolbox backbones): one-shot aggregation stages as a multi-scale backbone.

An OSA block runs ``layers`` 3x3 convs in a chain and aggregates the input and every conv's output once,
with a 1x1 conv. V2 adds effective squeeze-excitation (eSE) and an identity shortcut where the widths match;
unlike the original code (eSE in stages 2-3) and timm (last block of each stage) eSE is in every block, and
stage 2 keeps its max pool rather than merging it into the stem, as the V1 paper specifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import torch
from torch import nn

from .layers import ConvNormAct, MultiScaleBackbone

STEM_WIDTHS = (64, 64, 128)


@dataclass(frozen=True)
class VoVNetConfig:
    """Per stage: the 3x3 convs' width, the block output width and the number of blocks."""

    stage_widths: tuple[int, ...]
    out_widths: tuple[int, ...]
    layers_per_block: int
    blocks: tuple[int, ...]


_WIDE_STAGES = (128, 160, 192, 224)
_WIDE_OUTPUTS = (256, 512, 768, 1024)
VOVNET_CONFIGS = {
    "vovnet19_slim": VoVNetConfig((64, 80, 96, 112), (112, 256, 384, 512), 3, (1, 1, 1, 1)),
    "vovnet39": VoVNetConfig(_WIDE_STAGES, _WIDE_OUTPUTS, 5, (1, 1, 2, 2)),
    "vovnet57": VoVNetConfig(_WIDE_STAGES, _WIDE_OUTPUTS, 5, (1, 1, 4, 3)),
    "vovnet99": VoVNetConfig(_WIDE_STAGES, _WIDE_OUTPUTS, 5, (1, 3, 9, 3)),
}


class EffectiveSqueezeExcitation(nn.Module):
    """eSE: one 1x1 conv (with bias) on the pooled map, hard-sigmoid, channel-wise gate."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.fc(x.mean((2, 3), keepdim=True)))


class OSABlock(nn.Module):
    """One-shot aggregation: a chain of 3x3 convs, all outputs and the input concatenated once, 1x1."""

    def __init__(
        self, in_channels: int, stage_channels: int, out_channels: int, layers: int, residual: bool, ese: bool
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            ConvNormAct(in_channels if i == 0 else stage_channels, stage_channels, 3) for i in range(layers)
        )
        self.concat_conv = ConvNormAct(in_channels + layers * stage_channels, out_channels, 1)
        self.ese = EffectiveSqueezeExcitation(out_channels) if ese else nn.Identity()
        self.residual = residual and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [x]
        for conv in self.convs:
            outputs.append(conv(outputs[-1]))
        y = self.ese(self.concat_conv(torch.cat(outputs, dim=1)))
        return x + y if self.residual else y


class OSAStage(nn.Sequential):
    """MaxPool(3, 2, 1) then ``blocks`` OSA blocks; only the blocks after the first can be residual."""

    def __init__(
        self,
        in_channels: int,
        stage_channels: int,
        out_channels: int,
        layers: int,
        blocks: int,
        residual: bool,
        ese: bool,
    ) -> None:
        super().__init__(
            nn.MaxPool2d(3, 2, 1),
            *[
                OSABlock(
                    in_channels if i == 0 else out_channels,
                    stage_channels,
                    out_channels,
                    layers,
                    residual and i > 0,
                    ese,
                )
                for i in range(blocks)
            ],
        )


def _vovnet(config: VoVNetConfig, residual: bool, ese: bool) -> MultiScaleBackbone:
    stem = nn.Sequential(
        ConvNormAct(3, STEM_WIDTHS[0], 3, 2), *[ConvNormAct(a, b, 3) for a, b in pairwise(STEM_WIDTHS)]
    )
    widths = (STEM_WIDTHS[-1],) + config.out_widths
    stages = [
        OSAStage(widths[i], config.stage_widths[i], widths[i + 1], config.layers_per_block, blocks, residual, ese)
        for i, blocks in enumerate(config.blocks)
    ]
    return MultiScaleBackbone(stem, stages, [STEM_WIDTHS[-1], *config.out_widths], [2, 4, 8, 16, 32], stem_output=True)


def vovnet19_slim(residual: bool = True, ese: bool = True) -> MultiScaleBackbone:
    """VoVNet-19-slim (V2; ``residual=False, ese=False`` for V1)."""
    return _vovnet(VOVNET_CONFIGS["vovnet19_slim"], residual, ese)


def vovnet39(residual: bool = True, ese: bool = True) -> MultiScaleBackbone:
    """VoVNet-39 (V2; ``residual=False, ese=False`` for V1)."""
    return _vovnet(VOVNET_CONFIGS["vovnet39"], residual, ese)


def vovnet57(residual: bool = True, ese: bool = True) -> MultiScaleBackbone:
    """VoVNet-57 (V2; ``residual=False, ese=False`` for V1)."""
    return _vovnet(VOVNET_CONFIGS["vovnet57"], residual, ese)


def vovnet99(residual: bool = True, ese: bool = True) -> MultiScaleBackbone:
    """VoVNet-99 (V2; ``residual=False, ese=False`` for V1)."""
    return _vovnet(VOVNET_CONFIGS["vovnet99"], residual, ese)
