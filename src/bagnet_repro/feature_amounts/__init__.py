"""Seed 001's layer-wise feature-amount study: the VGG family, its networks, and its training runs.

The model is imported on first use: the workflow reads the family (numpy only) while it plans, where torch
may be missing.
"""

from .family import Variant, uniform_features, variants

__all__ = ["Variant", "build_feature_amount_model", "uniform_features", "variants"]


def __getattr__(name: str):
    if name == "build_feature_amount_model":
        from .model import build_feature_amount_model

        return build_feature_amount_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
