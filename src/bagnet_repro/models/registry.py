"""``build_model``: one entry point for the seven networks of the report, with the report's head."""

from __future__ import annotations

from typing import Callable

from torch import nn
from torchvision import models as tv_models

from ..errors import UserError
from .bagnet import bagnet9, bagnet17, bagnet33
from .cbam import cbam_resnet50

_BUILDERS: dict[str, Callable[[int], nn.Module]] = {
    "bagnet9": bagnet9,
    "bagnet17": bagnet17,
    "bagnet33": bagnet33,
    "resnet50": lambda n: tv_models.resnet50(weights=None, num_classes=n),
    "densenet121": lambda n: tv_models.densenet121(weights=None, num_classes=n),
    "densenet169": lambda n: tv_models.densenet169(weights=None, num_classes=n),
    "cbam_resnet50": cbam_resnet50,
}
MODEL_NAMES = tuple(_BUILDERS)
HEADS = ("report", "linear")


def report_head(in_features: int, num_classes: int) -> nn.Sequential:
    """The report's classifier: Dropout(0.6), Linear to 512, SELU, Dropout(0.8), Linear."""
    return nn.Sequential(
        nn.Dropout(0.6),
        nn.Linear(in_features, 512),
        nn.SELU(),
        nn.Dropout(0.8),
        nn.Linear(512, num_classes),
    )


def _head_attribute(model: nn.Module) -> str:
    return "classifier" if hasattr(model, "classifier") else "fc"


def build_model(name: str, num_classes: int, weights: str | None = None, head: str = "report") -> nn.Module:
    """Build ``name`` for ``num_classes`` classes with the ``report`` head or a plain ``linear`` one."""
    if name not in _BUILDERS:
        raise UserError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    if head not in HEADS:
        raise UserError(f"unknown head {head!r}; choose one of: {', '.join(HEADS)}")
    if weights not in (None, "none"):
        raise UserError(f"pretrained weights {weights!r} for {name} are not available yet; use weights: none")
    model = _BUILDERS[name](num_classes)
    if head == "report":
        attribute = _head_attribute(model)
        in_features = getattr(model, attribute).in_features
        setattr(model, attribute, report_head(in_features, num_classes))
    return model
