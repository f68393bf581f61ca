"""``get_bagnet`` and ``build_model``: every network of the report, its published weights and its head."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn
from torchvision import models as tv_models

from ..config.catalog import BAGNET_NAMES, HEADS
from ..config.networks import Network, WeightSources, network, unknown_network_problem
from ..data.download import download
from ..errors import UserError
from . import weights as weight_files
from .bagnet import BAGNET_CONFIGS, BagNet
from .builders import call_builder, torchvision_model_name
from .pytorchcv_compat import convert_state_dict

IMAGENET_CLASSES = 1000
# The size a network is built for when the caller does not say (only fixed-size networks depend on it).
DEFAULT_IMAGE_SIZE = 224


def report_head(in_features: int, num_classes: int) -> nn.Sequential:
    """The report's classifier: Dropout(0.6), Linear to 512, SELU, Dropout(0.8), Linear."""
    return nn.Sequential(
        nn.Dropout(0.6),
        nn.Linear(in_features, 512),
        nn.SELU(),
        nn.Dropout(0.8),
        nn.Linear(512, num_classes),
    )


def record_of(name: str) -> Network:
    """The network record of ``name``, or one line saying it is unknown."""
    record = network(name)
    if record is None:
        problem = unknown_network_problem(name)
        raise UserError(problem if name.startswith("torchvision:") else f"unknown model {problem}")
    return record


def _replace_head(model: nn.Module, record: Network, num_classes: int, head: str) -> None:
    """Put a new head where the record says the classifier sits (its dotted path)."""
    parent_path, _, attribute = record.classifier.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    old = getattr(parent, attribute)
    if not isinstance(old, nn.Linear):
        raise UserError(f"{record.name}: its classifier {record.classifier} is a {type(old).__name__}, not a Linear")
    in_features = old.in_features
    new = report_head(in_features, num_classes) if head == "report" else nn.Linear(in_features, num_classes)
    setattr(parent, attribute, new)


def _pretrained_bagnet(
    name: str, spec: weight_files.WeightsSpec, cache: str | os.PathLike | None, weights_file: Path | None = None
) -> BagNet:
    """A BagNet loaded strictly from ``spec`` (``weights_file`` when already fetched), at the file's class count."""
    path = weights_file or _spec_file(name, record_of(name).weights, spec, cache)
    state = weight_files.read_state_dict(path)
    pretrained_classes = state["fc.weight"].shape[0] if "fc.weight" in state else IMAGENET_CLASSES
    model = BagNet(BAGNET_CONFIGS[name], num_classes=pretrained_classes)
    weight_files.load_strict(model, state, str(path))
    return model


def get_bagnet(
    name: str,
    weights: str | dict | None = None,
    num_classes: int | None = 1000,
    cache: str | os.PathLike | None = None,
    weights_file: Path | None = None,
) -> BagNet:
    """A BagNet (``bagnet9|17|33`` original, ``*_v2`` padded) with random or pretrained weights.

    ``weights="imagenet"`` loads the original published ImageNet weights (original BagNets only); a path
    or URL loads a state dict (for v2: BagNets-v2's released files, or the weights of our pretraining).
    Pretrained files are loaded strictly at their own class count; the classifier is then replaced when
    ``num_classes`` differs (``None`` keeps the file's classifier). ``weights_file``: the file of ``weights``
    as fetch-weights recorded it (``weights.recorded_file``), loaded instead of looking the source up again.
    """
    if name not in BAGNET_CONFIGS:
        raise UserError(f"unknown BagNet {name!r}; choose one of: {', '.join(BAGNET_NAMES)}")
    spec = weight_files.parse_weights(weights)
    if spec is None:
        return BagNet(BAGNET_CONFIGS[name], num_classes=num_classes or IMAGENET_CLASSES)
    model = _pretrained_bagnet(name, spec, cache, weights_file)
    if num_classes is not None and model.fc.out_features != num_classes:
        model.fc = nn.Linear(model.num_features, num_classes)
    return model


def _torchvision_weights_enum(name: str) -> tv_models.WeightsEnum:
    """torchvision's weights entry for ``name`` (its record names it; ``DEFAULT``: torchvision's default weights
    of the model), or one line saying there is none."""
    record = record_of(name)
    entry = record.weights.torchvision
    if entry == "DEFAULT":
        weights = tv_models.get_model_weights(torchvision_model_name(record))
        return weights.DEFAULT
    if entry is None:
        raise UserError(
            f"torchvision has no weights for the report's {name} (for resnet50 torchvision's "
            "network strides on the 3x3 conv, a different model); use weights: pytorchcv"
        )
    enum_name, member = entry.split(".")
    return getattr(tv_models, enum_name)[member]


def _torchvision_file(name: str, cache: str | os.PathLike | None) -> Path:
    """torchvision's weights file for ``name`` in the cache, checked against the hash in its name."""
    url = _torchvision_weights_enum(name).url
    file_name = url.rsplit("/", 1)[-1]
    target = weight_files.cache_dir(cache) / "torchvision" / "checkpoints" / file_name
    if not target.is_file():
        download(url, target, sha256=file_name.rsplit("-", 1)[-1].split(".")[0])
    return target


def fetch_weights_file(name: str, weights: str | dict | None, cache: str | os.PathLike | None = None) -> Path | None:
    """Download (once, verified) the file ``weights`` names for ``name``; None for random init.

    The one place that maps a weights source to its file; builders only differ in how they load it.
    """
    sources = record_of(name).weights
    spec = weight_files.parse_weights(weights)
    return None if spec is None else _spec_file(name, sources, spec, cache)


def _spec_file(
    name: str, sources: WeightSources, spec: weight_files.WeightsSpec, cache: str | os.PathLike | None
) -> Path:
    """The file of the pretrained weights ``spec`` names for ``name`` (offered by ``sources``), fetched once."""
    if spec.source == "file":
        return weight_files.file_weights(spec, weight_files.cache_dir(cache))
    if spec.source == "imagenet" and not sources.imagenet:
        raise UserError(f"no published ImageNet weights for {name}; give a path or URL to a state dict")
    if spec.source == "imagenet":
        return weight_files.bagnet_imagenet_file(name, weight_files.cache_dir(cache))
    if spec.source == "pytorchcv" and sources.pytorchcv:
        return weight_files.pytorchcv_file(sources.pytorchcv, weight_files.cache_dir(cache))
    if spec.source == "torchvision":
        return _torchvision_file(name, cache)
    choices = ", ".join(sources.offered() + ["none", "a path/URL"])
    raise UserError(f"weights {spec.source!r} are not offered for {name}; use {choices}")


def _pretrained_cnn(
    name: str, spec: weight_files.WeightsSpec, cache: str | os.PathLike | None, weights_file: Path | None = None
) -> nn.Module:
    """A CNN baseline at 1000 classes carrying the pretrained ``spec`` (``weights_file`` when already fetched)."""
    path = weights_file or _spec_file(name, record_of(name).weights, spec, cache)
    source = spec.source
    if source == "torchvision":
        # torchvision's builder finds the verified file as torch.hub keeps it (<hub>/checkpoints/<its name>)
        # and applies its own key fixes.
        if path.parent.name != "checkpoints" or path.name != _torchvision_weights_enum(name).url.rsplit("/", 1)[-1]:
            raise UserError(f"{path} is not where torch.hub keeps {name}'s torchvision weights; fetch them again")
        previous = torch.hub.get_dir()
        torch.hub.set_dir(str(path.parent.parent))
        enum = _torchvision_weights_enum(name)
        try:
            return tv_models.get_model(_torchvision_builder_name(name), weights=enum)
        finally:
            torch.hub.set_dir(previous)
    model = call_builder(record_of(name), IMAGENET_CLASSES, DEFAULT_IMAGE_SIZE)
    state = weight_files.read_state_dict(path)
    if source == "pytorchcv":
        state = convert_state_dict(state, model.state_dict(), str(path))
    weight_files.load_strict(model, state, str(path))
    return model


def _torchvision_builder_name(name: str) -> str:
    """torchvision's builder of ``name``: the model itself for ``torchvision:<model>``, else the report's name."""
    record = record_of(name)
    return torchvision_model_name(record) if record.family == "torchvision" else name


def build_model(
    name: str,
    num_classes: int,
    weights: str | dict | None = None,
    head: str = "report",
    cache: str | os.PathLike | None = None,
    weights_file: Path | None = None,
    image_size: int = DEFAULT_IMAGE_SIZE,
) -> nn.Module:
    """Build ``name`` for ``num_classes`` classes with the ``report`` head or a plain ``linear`` one.

    With pretrained ``weights`` the whole network is loaded at ImageNet's 1000 classes and the head is
    replaced (as the report fine-tuned); without, the model starts from random init. ``weights_file``: the file
    of ``weights`` as fetch-weights recorded it, loaded instead of looking the source up in the cache again.
    """
    record = record_of(name)
    if head not in HEADS:
        raise UserError(f"unknown head {head!r}; choose one of: {', '.join(HEADS)}")
    spec = weight_files.parse_weights(weights)
    if spec is None:
        model = call_builder(record, num_classes, image_size)
        if head == "report":
            _replace_head(model, record, num_classes, head)
        return model
    if name in BAGNET_CONFIGS:
        model = _pretrained_bagnet(name, spec, cache, weights_file)
    else:
        model = _pretrained_cnn(name, spec, cache, weights_file)
    _replace_head(model, record, num_classes, head)
    return model
