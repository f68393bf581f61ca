"""``get_bagnet`` and ``build_model``: every network of the report, its published weights and its head."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torchvision import models as tv_models

from ..data.download import download
from ..errors import UserError
from . import weights as W
from .bagnet import BAGNET_CONFIGS, BagNet
from .cbam import cbam_resnet50
from .pytorchcv_compat import PYTORCHCV_NAMES, convert_state_dict
from .resnet import resnet50_v1

BAGNET_NAMES = tuple(BAGNET_CONFIGS)
_CNN_BUILDERS: dict[str, Callable[[int], nn.Module]] = {
    "resnet50": resnet50_v1,
    "densenet121": lambda n: tv_models.densenet121(weights=None, num_classes=n),
    "densenet169": lambda n: tv_models.densenet169(weights=None, num_classes=n),
    "cbam_resnet50": cbam_resnet50,
}
# torchvision weights whose network is exactly ours (its ResNet-50 strides on the 3x3: a different net).
_TORCHVISION_WEIGHTS = {
    "densenet121": lambda: tv_models.DenseNet121_Weights.IMAGENET1K_V1,
    "densenet169": lambda: tv_models.DenseNet169_Weights.IMAGENET1K_V1,
}
MODEL_NAMES = BAGNET_NAMES + tuple(_CNN_BUILDERS)
HEADS = ("report", "linear")
IMAGENET_CLASSES = 1000


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


def _replace_head(model: nn.Module, num_classes: int, head: str) -> None:
    attribute = _head_attribute(model)
    in_features = getattr(model, attribute).in_features
    new = report_head(in_features, num_classes) if head == "report" else nn.Linear(in_features, num_classes)
    setattr(model, attribute, new)


def _pretrained_bagnet(name: str, weights: str | dict, cache: str | os.PathLike | None) -> BagNet:
    """A BagNet loaded strictly from ``weights``, at the class count of the file."""
    path = fetch_weights_file(name, weights, cache)
    state = W.read_state_dict(path)
    pretrained_classes = state["fc.weight"].shape[0] if "fc.weight" in state else IMAGENET_CLASSES
    model = BagNet(BAGNET_CONFIGS[name], num_classes=pretrained_classes)
    W.load_strict(model, state, str(path))
    return model


def get_bagnet(name: str, weights: str | dict | None = None, num_classes: int = 1000,
               cache: str | os.PathLike | None = None) -> BagNet:
    """A BagNet (``bagnet9|17|33`` original, ``*_v2`` padded) with random or pretrained weights.

    ``weights="imagenet"`` loads the original published ImageNet weights (original BagNets only); a path
    or URL loads a state dict (for v2: the weights of a v2 pretraining). Pretrained files are loaded
    strictly at their own class count; the classifier is then replaced when ``num_classes`` differs.
    """
    if name not in BAGNET_CONFIGS:
        raise UserError(f"unknown BagNet {name!r}; choose one of: {', '.join(BAGNET_NAMES)}")
    spec = W.parse_weights(weights)
    if spec is None:
        return BagNet(BAGNET_CONFIGS[name], num_classes=num_classes)
    model = _pretrained_bagnet(name, weights, cache)
    if model.fc.out_features != num_classes:
        model.fc = nn.Linear(model.num_features, num_classes)
    return model


def _torchvision_file(name: str, cache: str | os.PathLike | None) -> Path:
    """torchvision's weights file for ``name`` in the cache, checked against the hash in its name."""
    if name not in _TORCHVISION_WEIGHTS:
        raise UserError(f"torchvision has no weights for the report's {name} (for resnet50 torchvision's "
                        "network strides on the 3x3 conv, a different model); use weights: pytorchcv")
    url = _TORCHVISION_WEIGHTS[name]().url
    file_name = url.rsplit("/", 1)[-1]
    target = W.cache_dir(cache) / "torchvision" / "checkpoints" / file_name
    if not target.is_file():
        download(url, target, sha256=file_name.rsplit("-", 1)[-1].split(".")[0])
    return target


def fetch_weights_file(name: str, weights: str | dict | None,
                       cache: str | os.PathLike | None = None) -> Path | None:
    """Download (once, verified) the file ``weights`` names for ``name``; None for random init.

    The one place that maps a weights source to its file; builders only differ in how they load it.
    """
    if name not in MODEL_NAMES:
        raise UserError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    spec = W.parse_weights(weights)
    if spec is None:
        return None
    if spec.source == "file":
        return W.file_weights(spec, W.cache_dir(cache))
    if name in BAGNET_CONFIGS:
        if spec.source == "imagenet":
            return W.bagnet_imagenet_file(name, W.cache_dir(cache))
        raise UserError(f"weights {spec.source!r} are not offered for {name}; use imagenet, none or a path/URL")
    if spec.source == "pytorchcv":
        return W.pytorchcv_file(PYTORCHCV_NAMES[name], W.cache_dir(cache))
    if spec.source == "torchvision":
        return _torchvision_file(name, cache)
    raise UserError(f"weights {spec.source!r} are not offered for {name}; use pytorchcv, torchvision, "
                    "none or a path/URL")


def _pretrained_cnn(name: str, weights: str | dict, cache: str | os.PathLike | None) -> nn.Module:
    """A CNN baseline at 1000 classes carrying the pretrained ``weights``."""
    path = fetch_weights_file(name, weights, cache)
    source = W.parse_weights(weights).source
    if source == "torchvision":
        # torchvision's builder finds the verified file in the cache and applies its own key fixes.
        previous = torch.hub.get_dir()
        torch.hub.set_dir(str(W.cache_dir(cache) / "torchvision"))
        try:
            return getattr(tv_models, name)(weights=_TORCHVISION_WEIGHTS[name]())
        finally:
            torch.hub.set_dir(previous)
    model = _CNN_BUILDERS[name](IMAGENET_CLASSES)
    state = W.read_state_dict(path)
    if source == "pytorchcv":
        state = convert_state_dict(state, model.state_dict(), str(path))
    W.load_strict(model, state, str(path))
    return model


def build_model(name: str, num_classes: int, weights: str | dict | None = None, head: str = "report",
                cache: str | os.PathLike | None = None) -> nn.Module:
    """Build ``name`` for ``num_classes`` classes with the ``report`` head or a plain ``linear`` one.

    With pretrained ``weights`` the whole network is loaded at ImageNet's 1000 classes and the head is
    replaced (as the report fine-tuned); without, the model starts from random init.
    """
    if name not in MODEL_NAMES:
        raise UserError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    if head not in HEADS:
        raise UserError(f"unknown head {head!r}; choose one of: {', '.join(HEADS)}")
    spec = W.parse_weights(weights)
    if spec is None:
        if name in BAGNET_CONFIGS:
            model = BagNet(BAGNET_CONFIGS[name], num_classes=num_classes)
        else:
            model = _CNN_BUILDERS[name](num_classes)
        if head == "report":
            _replace_head(model, num_classes, head)
        return model
    if name in BAGNET_CONFIGS:
        model = _pretrained_bagnet(name, weights, cache)
    else:
        model = _pretrained_cnn(name, weights, cache)
    _replace_head(model, num_classes, head)
    return model
