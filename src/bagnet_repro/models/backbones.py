"""``build_backbone``: the vision-backbones project's multi-scale backbones, and the classifier each becomes.

A backbone returns the list of its stage maps (strides 2, 4, 8, 16, 32) and carries ``out_channels`` and
``strides``. The classifier pools the last map and applies a linear layer named ``fc``, so the report's
head and pretrained-file loading treat it like the other CNNs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..config.catalog import BACKBONE_NAMES, OWN_BACKBONES
from ..errors import UserError
from . import darknet, vovnet
from .layers import MultiScaleBackbone
from .torchvision_backbones import TorchvisionBackbone

# Every backbone carries ``out_channels`` and ``strides`` and returns the list of its stage maps.
Backbone = MultiScaleBackbone | TorchvisionBackbone

_OWN_BUILDERS: dict[str, Callable[..., MultiScaleBackbone]] = {
    "darknet19": darknet.darknet19,
    "darknet53": darknet.darknet53,
    "cspdarknet19": darknet.cspdarknet19,
    "cspdarknet53": darknet.cspdarknet53,
    "vovnet19_slim": vovnet.vovnet19_slim,
    "vovnet39": vovnet.vovnet39,
    "vovnet57": vovnet.vovnet57,
    "vovnet99": vovnet.vovnet99,
}
assert tuple(_OWN_BUILDERS) == OWN_BACKBONES, "catalog.OWN_BACKBONES and the builders disagree"


def build_backbone(name: str, **options) -> Backbone:
    """The backbone ``name`` with random weights; ``options`` go to its builder.

    VoVNet: ``residual=False, ese=False`` for V1. Darknet and CSPDarknet: ``activation="leaky_relu"`` for
    YOLO's LeakyReLU(0.1) instead of the original code's ReLU."""
    if name not in BACKBONE_NAMES:
        raise UserError(f"unknown backbone {name!r}; choose one of: {', '.join(BACKBONE_NAMES)}")
    if name in _OWN_BUILDERS:
        try:
            return _OWN_BUILDERS[name](**options)
        except TypeError as error:
            raise UserError(f"backbone {name!r} does not take the options {sorted(options)}: {error}") from None
    if options:
        raise UserError(f"backbone {name!r} (torchvision) takes no options; got {sorted(options)}")
    return TorchvisionBackbone(name)


class BackboneClassifier(nn.Module):
    """Global average pooling of a backbone's last map, then ``fc``."""

    def __init__(self, backbone: Backbone, num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.num_features = backbone.out_channels[-1]
        self.fc = nn.Linear(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.backbone(x)[-1], 1), 1))
