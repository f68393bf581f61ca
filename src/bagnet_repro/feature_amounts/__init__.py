"""Seed 001's layer-wise feature-amount study: the VGG family, its networks, and its training runs."""

from .family import Variant, uniform_features, variants
from .model import build_feature_amount_model

__all__ = ["Variant", "build_feature_amount_model", "uniform_features", "variants"]
