"""Model builders: the original and v2 BagNets, CBAM-ResNet50, the CNN baselines and the vision-toolbox backbones.

``get_augmentations`` (BagNets-v2's preprocessing presets) is offered beside ``get_bagnet``, as there.
"""

from ..config.catalog import BAGNET_NAMES, MODEL_NAMES
from ..data.augmentations import IMAGENET_NORMALIZATION, get_augmentations
from .backbones import BackboneClassifier, build_backbone
from .bagnet import BagNet, bagnet9, bagnet9_v2, bagnet17, bagnet17_v2, bagnet33, bagnet33_v2
from .registry import build_model, get_bagnet, report_head

__all__ = [
    "BagNet",
    "bagnet9",
    "bagnet17",
    "bagnet33",
    "bagnet9_v2",
    "bagnet17_v2",
    "bagnet33_v2",
    "BAGNET_NAMES",
    "MODEL_NAMES",
    "IMAGENET_NORMALIZATION",
    "build_model",
    "get_augmentations",
    "get_bagnet",
    "report_head",
    "build_backbone",
    "BackboneClassifier",
]
