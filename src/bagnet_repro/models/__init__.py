"""Model builders: the original and v2 BagNets, CBAM-ResNet50 and the CNN baselines, with their weights."""

from .bagnet import BagNet, bagnet9, bagnet9_v2, bagnet17, bagnet17_v2, bagnet33, bagnet33_v2
from .registry import BAGNET_NAMES, MODEL_NAMES, build_model, get_bagnet, report_head

__all__ = ["BagNet", "bagnet9", "bagnet17", "bagnet33", "bagnet9_v2", "bagnet17_v2", "bagnet33_v2",
           "BAGNET_NAMES", "MODEL_NAMES", "build_model", "get_bagnet", "report_head"]
