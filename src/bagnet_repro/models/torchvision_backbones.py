"""torchvision's classification networks as multi-scale backbones, through ``create_feature_extractor``.

The returned nodes are found, not listed by hand: the trunk (ResNet's modules before the pooling, or the
``features`` sequence of MobileNet/EfficientNet) is run once on a small image and the last node at each
stride is kept. So a family torchvision changes keeps working, and every name gets strides 2..32.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision import models as tv_models
from torchvision.models.feature_extraction import create_feature_extractor

_PROBE_SIZE = 64


def _trunk(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The named top-level steps of the feature trunk, in execution order."""
    if isinstance(model, tv_models.ResNet):
        names = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")
        return [(name, getattr(model, name)) for name in names]
    features = model.features
    # the other families of TORCHVISION_BACKBONES (MobileNet, EfficientNet) keep their trunk in a Sequential
    assert isinstance(features, nn.Sequential), f"{type(model).__name__}.features is not an nn.Sequential"
    return [(f"features.{index}", layer) for index, layer in enumerate(features)]


def _stage_nodes(model: nn.Module) -> tuple[list[str], list[int], list[int]]:
    """The last trunk step at each stride, with its channel count and stride."""
    nodes: dict[int, tuple[str, int]] = {}
    x = torch.zeros(1, 3, _PROBE_SIZE, _PROBE_SIZE)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for name, layer in _trunk(model):
            x = layer(x)
            nodes[_PROBE_SIZE // x.shape[-1]] = (name, x.shape[1])
    model.train(was_training)
    strides = sorted(nodes)
    return [nodes[s][0] for s in strides], [nodes[s][1] for s in strides], strides


class TorchvisionBackbone(nn.Module):
    """A torchvision network cut after its last stage, returning the list of stage maps."""

    def __init__(self, name: str) -> None:
        super().__init__()
        model = getattr(tv_models, name)(weights=None)
        nodes, self.out_channels, self.strides = _stage_nodes(model)
        self.body = create_feature_extractor(model, return_nodes={node: str(i) for i, node in enumerate(nodes)})

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(self.body(x).values())
