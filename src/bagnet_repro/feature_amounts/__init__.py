"""The layer-wise feature-amount study (Mundt et al., 2018): the VGG family, its networks, its training runs.

The names below are imported on first use, so that the workflow can import ``family`` (numpy only) without
scipy or torch.
"""

_EXPORTS = {
    "Variant": "family",
    "uniform_features": "family",
    "variants": "family",
    "build_feature_amount_model": "model",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
