"""The report's ResNet-50: the original layout, with each stage's stride on the first 1x1 conv.

pytorchcv's ``resnet50`` (whose ImageNet weights the report fine-tuned) strides in the first 1x1 conv of a
stage's first bottleneck, as in He et al. (2015). torchvision's ResNet-50 moved the stride to the 3x3 conv
("v1.5"): same parameters, a different function, so its weights are not the report's network.
"""

from __future__ import annotations

from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet, conv1x1, conv3x3


class StrideFirstBottleneck(Bottleneck):
    """torchvision's bottleneck with the stride moved from the 3x3 conv to the first 1x1 conv."""

    conv1: nn.Conv2d
    conv2: nn.Conv2d

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer=None,
    ) -> None:
        super().__init__(inplanes, planes, stride, downsample, groups, base_width, dilation, norm_layer)
        width = self.conv2.in_channels
        self.conv1 = conv1x1(inplanes, width, stride)
        self.conv2 = conv3x3(width, width, 1, groups, dilation)


def resnet50_v1(num_classes: int = 1000) -> ResNet:
    """ResNet-50 as in pytorchcv/imgclsmob and the original paper (25,557,032 parameters at 1000 classes)."""
    return ResNet(StrideFirstBottleneck, [3, 4, 6, 3], num_classes=num_classes)
