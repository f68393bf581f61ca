"""Building units shared by the vision-toolbox backbones: Conv-BN-activation and Kaiming fan-out init."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn


class ConvNormAct(nn.Sequential):
    """A bias-free convolution, BatchNorm and an activation; padding keeps ``ceil(size / stride)``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        activation: Callable[[], nn.Module] = lambda: nn.ReLU(inplace=True),
    ) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=(kernel_size - 1) // 2, bias=False),
            nn.BatchNorm2d(out_channels),
            activation(),
        )


def init_kaiming_fan_out(module: nn.Module) -> None:
    """Kaiming-normal (fan-out, ReLU gain) convolutions, unit/zero BatchNorm, zero biases."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)


class MultiScaleBackbone(nn.Module):
    """A stem and stages run in turn, returning every stage's output: the maps a detector's neck takes.

    ``out_channels`` and ``strides`` describe the returned list, as a feature pyramid builder needs them;
    ``stem_output`` puts the stem's map first (VoVNet's stem ends at stride 2, Darknet's at stride 1).
    """

    def __init__(
        self,
        stem: nn.Module,
        stages: Sequence[nn.Module],
        out_channels: list[int],
        strides: list[int],
        stem_output: bool = False,
    ) -> None:
        super().__init__()
        self.stem = stem
        self.stem_output = stem_output
        self.stages = nn.ModuleList(stages)
        self.out_channels = list(out_channels)
        self.strides = list(strides)
        init_kaiming_fan_out(self)

    def forward(self, x):
        x = self.stem(x)
        outputs = [x] if self.stem_output else []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs
