"""The builders the network records name (``config/networks.py``): each takes the record, the class count and
the image size and returns the network with random weights."""

from __future__ import annotations

import importlib

from torch import nn
from torchvision import models as tv_models

from ..config.networks import TORCHVISION_PREFIX, Network
from ..errors import UserError
from . import cbam
from .backbones import BackboneClassifier, build_backbone
from .bagnet import BAGNET_CONFIGS, BagNet
from .resnet import resnet50_v1


def bagnet(network: Network, num_classes: int, image_size: int) -> nn.Module:
    """A BagNet, original or v2 (any input size: the logits are averaged over the patch grid)."""
    return BagNet(BAGNET_CONFIGS[network.name], num_classes=num_classes)


def resnet50(network: Network, num_classes: int, image_size: int) -> nn.Module:
    """The report's ResNet-50: pytorchcv's layout (stride in the first 1x1 conv of each stage)."""
    return resnet50_v1(num_classes)


def densenet121(network: Network, num_classes: int, image_size: int) -> nn.Module:
    return tv_models.densenet121(weights=None, num_classes=num_classes)


def densenet169(network: Network, num_classes: int, image_size: int) -> nn.Module:
    return tv_models.densenet169(weights=None, num_classes=num_classes)


def cbam_resnet50(network: Network, num_classes: int, image_size: int) -> nn.Module:
    return cbam.cbam_resnet50(num_classes)


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
