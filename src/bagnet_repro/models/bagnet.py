"""BagNets: ResNet-50s whose receptive field is capped at 9, 17 or 33 pixels.

The original (Brendel & Bethge, ICLR 2019) leaves every convolution unpadded and only the first block of
chosen stages has a 3x3 middle convolution, so each location of the final feature map sees exactly one
9x9, 17x17 or 33x33 patch of the input. Module names follow the original implementation so its published
state dicts load unchanged.

The v2 variant (BagNets-v2) drops the 1x1 stem conv (two linear convs in a row are one), pads the 3x3
convs so no shortcut crop is needed, and keeps the default BN momentum. Padding means border logits are
no longer those of an isolated patch. Its one stem conv is named ``conv1`` as in BagNets-v2, so their
released state dicts (e.g. ``bagnet33_imagenet_pretrained.pt``) load strictly too.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config.catalog import BAGNETS_V2, ORIGINAL_BAGNETS


class Bottleneck(nn.Module):
    """ResNet bottleneck with an unpadded middle conv; the shortcut is cropped bottom/right to match."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        kernel_size: int = 1,
        downsample: nn.Module | None = None,
        padded: bool = False,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        padding = (kernel_size - 1) // 2 if padded else 0
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=kernel_size, stride=stride, padding=padding, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        # An unpadded 3x3 drops the last row/column; align the shortcut with its top-left tap.
        height, width = out.shape[-2:]
        residual = residual[..., :height, :width]
        return self.relu(out + residual)


@dataclass(frozen=True)
class BagNetConfig:
    """Which stages open with a 3x3 middle conv; this alone sets the receptive field."""

    name: str
    kernel3: tuple[int, int, int, int]
    receptive_field: int
    padded: bool = False
    layers: tuple[int, int, int, int] = (3, 4, 6, 3)
    strides: tuple[int, int, int, int] = (2, 2, 2, 1)


# Which stages open with a 3x3 middle conv, by patch width (the receptive field).
_KERNEL3 = {9: (1, 1, 0, 0), 17: (1, 1, 1, 0), 33: (1, 1, 1, 1)}


def _config(name: str, patch: int | str, padded: bool = False) -> BagNetConfig:
    # A network record's receptive field is a patch width or the words "whole image"; every BagNet's is a width.
    assert isinstance(patch, int), f"BagNet {name}'s receptive field {patch!r} is not a patch width"
    return BagNetConfig(name, _KERNEL3[patch], patch, padded=padded)


BAGNET_CONFIGS = {
    **{name: _config(name, patch) for name, patch in ORIGINAL_BAGNETS.items()},
    **{name: _config(name, patch, padded=True) for name, patch in BAGNETS_V2.items()},
}


class BagNet(nn.Module):
    """Bag-of-local-features network: class evidence per patch, averaged over the image."""

    # the four stages, set by name in __init__
    layer1: nn.Sequential
    layer2: nn.Sequential
    layer3: nn.Sequential
    layer4: nn.Sequential

    def __init__(self, config: BagNetConfig, num_classes: int = 1000) -> None:
        super().__init__()
        self.config = config
        self.inplanes = 64
        if config.padded:
            # v2 stem: one padded 3x3 conv, named conv1 as BagNets-v2 names it.
            self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
            self.conv2: nn.Conv2d | None = None
            self.bn1 = nn.BatchNorm2d(64)
        else:
            self.conv1 = nn.Conv2d(3, 64, kernel_size=1, stride=1, padding=0, bias=False)
            self.conv2 = nn.Conv2d(64, 64, kernel_size=3, stride=1, padding=0, bias=False)
            self.bn1 = nn.BatchNorm2d(64, momentum=0.001)
        self.relu = nn.ReLU(inplace=True)
        widths = (64, 128, 256, 512)
        for index, (width, blocks, stride, k3) in enumerate(
            zip(widths, config.layers, config.strides, config.kernel3, strict=True), start=1
        ):
            setattr(self, f"layer{index}", self._make_layer(width, blocks, stride, 3 if k3 else 1))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.num_features = 512 * Bottleneck.expansion
        self.fc: nn.Module = nn.Linear(self.num_features, num_classes)
        self._init_weights()
        if config.padded:
            self._register_load_state_dict_pre_hook(_rename_earlier_v2_stem)

    def _make_layer(self, planes: int, blocks: int, stride: int, first_kernel: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * Bottleneck.expansion),
            )
        padded = self.config.padded
        layers = [Bottleneck(self.inplanes, planes, stride, first_kernel, downsample, padded)]
        self.inplanes = planes * Bottleneck.expansion
        layers += [Bottleneck(self.inplanes, planes, kernel_size=1, padded=padded) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The B x 2048 x h x w map of local features, one column per input patch."""
        x = self.conv1(x)
        if self.conv2 is not None:  # the original's 3x3 after its 1x1
            x = self.conv2(x)
        x = self.relu(self.bn1(x))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def logit_map(self, x: torch.Tensor) -> torch.Tensor:
        """Class evidence of every patch: B x classes x h x w (the head applied at each location)."""
        feats = self.features(x)
        logits = self.fc(feats.permute(0, 2, 3, 1))
        return logits.permute(0, 3, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.fc(pooled)


def _rename_earlier_v2_stem(state_dict: dict, prefix: str, *args) -> None:
    """bagnet-repro 0.1 named the v2 stem conv ``conv2``; its fine-tuned files keep loading."""
    earlier, current = prefix + "conv2.weight", prefix + "conv1.weight"
    if earlier in state_dict and current not in state_dict:
        state_dict[current] = state_dict.pop(earlier)


def _bagnet(name: str, num_classes: int) -> BagNet:
    return BagNet(BAGNET_CONFIGS[name], num_classes=num_classes)


def bagnet9_v2(num_classes: int = 1000) -> BagNet:
    return _bagnet("bagnet9_v2", num_classes)


def bagnet17_v2(num_classes: int = 1000) -> BagNet:
    return _bagnet("bagnet17_v2", num_classes)


def bagnet33_v2(num_classes: int = 1000) -> BagNet:
    return _bagnet("bagnet33_v2", num_classes)


def bagnet9(num_classes: int = 1000) -> BagNet:
    return _bagnet("bagnet9", num_classes)


def bagnet17(num_classes: int = 1000) -> BagNet:
    return _bagnet("bagnet17", num_classes)


def bagnet33(num_classes: int = 1000) -> BagNet:
    return _bagnet("bagnet33", num_classes)
