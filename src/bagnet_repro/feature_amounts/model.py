"""The network of one feature-amount variant: VGG's five pooled blocks with the variant's widths.

Each conv layer is a 3x3 convolution (padding 1, no bias), batch norm (eps 1e-4) and ReLU; a 2x2 max-pool
closes each of the five blocks (2, 2, L, L, L layers). The classifier is two fully connected layers (no
bias) with batch norm and ReLU, dropout 0.5 and a linear layer to the classes. Kaiming-normal init.
"""

from __future__ import annotations

from torch import nn

from ..config.datasets import FEATURE_AMOUNT_IMAGE_SIZE
from .family import FC_LAYERS

BN_EPS = 1e-4
DROPOUT = 0.5


def block_sizes(conv_layers: int) -> list[int]:
    """Conv layers per pooled block: 2, 2, then the rest split evenly over three blocks."""
    deep, remainder = divmod(conv_layers - 4, 3)
    if conv_layers < 7 or remainder:
        raise ValueError(f"a VGG variant has 4 + 3L conv layers, got {conv_layers}")
    return [2, 2, deep, deep, deep]


def _conv_unit(fan_in: int, fan_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(fan_in, fan_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(fan_out, eps=BN_EPS),
        nn.ReLU(inplace=True),
    ]


def _fc_unit(fan_in: int, fan_out: int) -> list[nn.Module]:
    return [nn.Linear(fan_in, fan_out, bias=False), nn.BatchNorm1d(fan_out, eps=BN_EPS), nn.ReLU(inplace=True)]


class FeatureAmountNet(nn.Module):
    def __init__(
        self,
        features: tuple[int, ...] | list[int],
        num_classes: int,
        image_size: int = FEATURE_AMOUNT_IMAGE_SIZE,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        features = [int(f) for f in features]
        conv, fc = features[:-FC_LAYERS], features[-FC_LAYERS:]
        if image_size % 32:
            raise ValueError(f"image_size must be a multiple of 32 (five 2x2 pools), got {image_size}")
        layers: list[nn.Module] = []
        fan_in, index = in_channels, 0
        for size in block_sizes(len(conv)):
            for width in conv[index : index + size]:
                layers += _conv_unit(fan_in, width)
                fan_in = width
            index += size
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        flat = fan_in * (image_size // 32) ** 2
        self.classifier = nn.Sequential(
            nn.Flatten(),
            *_fc_unit(flat, fc[0]),
            *_fc_unit(fc[0], fc[1]),
            nn.Dropout(DROPOUT),
            nn.Linear(fc[1], num_classes),
        )
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x):
        return self.classifier(self.features(x))


def build_feature_amount_model(
    features, num_classes: int, image_size: int = FEATURE_AMOUNT_IMAGE_SIZE
) -> FeatureAmountNet:
    """The variant network with per-layer ``features`` (conv layers, then the two hidden FC widths)."""
    return FeatureAmountNet(features, num_classes, image_size)
