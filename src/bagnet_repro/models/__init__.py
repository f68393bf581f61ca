"""Model builders: the original BagNets, CBAM-ResNet50 and torchvision baselines."""

from .bagnet import BagNet, bagnet9, bagnet17, bagnet33
from .registry import MODEL_NAMES, build_model

__all__ = ["BagNet", "bagnet9", "bagnet17", "bagnet33", "MODEL_NAMES", "build_model"]
