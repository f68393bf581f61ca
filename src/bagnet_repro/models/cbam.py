"""CBAM-ResNet50 (Woo et al., 2018): a ResNet-50 with channel and spatial attention in every bottleneck."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet


class ChannelGate(nn.Module):
    """Shared MLP on the average- and max-pooled channel vectors, summed, then a sigmoid."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(channels, channels // reduction),
            nn.ReLU(inplace=True),
            nn.Linear(channels // reduction, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(x.mean(dim=(2, 3)))
        mx = self.mlp(x.amax(dim=(2, 3)))
        return x * torch.sigmoid(avg + mx)[:, :, None, None]


class SpatialGate(nn.Module):
    """7x7 conv + BN over the channel-max and channel-mean maps, then a sigmoid."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size=7, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.bn(self.conv(pooled)))


class CbamBottleneck(Bottleneck):
    """torchvision's bottleneck with channel then spatial attention on bn3's output, before the add."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        channels = self.bn3.num_features
        self.channel_gate = ChannelGate(channels)
        self.spatial_gate = SpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.spatial_gate(self.channel_gate(out))
        return self.relu(out + identity)


def cbam_resnet50(num_classes: int = 1000) -> ResNet:
    return ResNet(CbamBottleneck, [3, 4, 6, 3], num_classes=num_classes)
