"""The builders the network records name (``config/networks.py``): each takes the record, the class count and
the image size and returns the network with random weights."""

from __future__ import annotations

import importlib

from torch import nn
from torchvision import models as tv_models

from ..config.networks import TORCHVISION_PREFIX, Network
from ..errors import UserError
from .backbones import BackboneClassifier, build_backbone
from .bagnet import BAGNET_CONFIGS, BagNet
from .cbam import cbam_resnet50
from .resnet import resnet50_v1

_REPORT_CNNS = {
    "resnet50": resnet50_v1,
    "densenet121": lambda n: tv_models.densenet121(weights=None, num_classes=n),
    "densenet169": lambda n: tv_models.densenet169(weights=None, num_classes=n),
    "cbam_resnet50": cbam_resnet50,
}


def bagnet(network: Network, num_classes: int, image_size: int) -> nn.Module:
    """A BagNet, original or v2 (any input size: the logits are averaged over the patch grid)."""
    return BagNet(BAGNET_CONFIGS[network.name], num_classes=num_classes)


def report_cnn(network: Network, num_classes: int, image_size: int) -> nn.Module:
    """One of the report's CNN baselines, in the layout of its pretrained files."""
    return _REPORT_CNNS[network.name](num_classes)


def backbone_classifier(network: Network, num_classes: int, image_size: int) -> nn.Module:
    """A vision-toolbox backbone, pooled, then a linear ``fc``."""
    return BackboneClassifier(build_backbone(network.backbone), num_classes)


def torchvision_model_name(network: Network) -> str:
    """The name in torchvision's model list, checked against that list (one line when it is not there)."""
    name = network.name[len(TORCHVISION_PREFIX) :]
    if name not in tv_models.list_models(module=tv_models):
        raise UserError(f"{network.name}: torchvision has no classification model {name!r} (its list_models)")
    return name


def torchvision_model(network: Network, num_classes: int, image_size: int) -> nn.Module:
    """torchvision's own network with random weights, its classifier already at ``num_classes``."""
    return tv_models.get_model(torchvision_model_name(network), weights=None, num_classes=num_classes)


def call_builder(network: Network, num_classes: int, image_size: int) -> nn.Module:
    """The network of the record, built by the function its ``builder`` names."""
    module, function = network.builder.split(":")
    return getattr(importlib.import_module(module), function)(network, num_classes, image_size)
