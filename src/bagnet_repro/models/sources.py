"""Where each network's published weights live: one table, as timm keeps its ``default_cfgs``.

A source is offered for a model only when that file holds exactly our network. torchvision's ResNet-50
strides on the 3x3 conv (the report's pytorchcv ResNet-50 on the first 1x1), so it has no entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config.catalog import MODEL_NAMES

BITBUCKET = (
    "https://bitbucket.org/wielandbrendel/bag-of-feature-pretrained-models/raw/"
    "249e8fa82c0913623a807d9d35eeab9da7dcc2a8/"
)
IMGCLSMOB = "https://github.com/osmr/imgclsmob"


@dataclass(frozen=True)
class WeightSources:
    """The published files of one network, by source keyword (None: not offered)."""

    imagenet: str | None = None  # original BagNets: file name under BITBUCKET (sha256 prefix in the name)
    pytorchcv: str | None = None  # the imgclsmob/pytorchcv model name (sha1 recorded by the package)
    torchvision: str | None = None  # "<WeightsEnum>.<member>" of torchvision.models


WEIGHT_SOURCES: dict[str, WeightSources] = {
    "bagnet9": WeightSources(imagenet="bagnet8-34f4ccd2.pth.tar"),
    "bagnet17": WeightSources(imagenet="bagnet16-105524de.pth.tar"),
    "bagnet33": WeightSources(imagenet="bagnet32-2ddd53ed.pth.tar"),
    "resnet50": WeightSources(pytorchcv="resnet50"),
    "densenet121": WeightSources(pytorchcv="densenet121", torchvision="DenseNet121_Weights.IMAGENET1K_V1"),
    "densenet169": WeightSources(pytorchcv="densenet169", torchvision="DenseNet169_Weights.IMAGENET1K_V1"),
    "cbam_resnet50": WeightSources(pytorchcv="cbam_resnet50"),
}


def weight_sources(model: str) -> WeightSources:
    """The sources of ``model``; models without published files (BagNets-v2) have none."""
    if model not in MODEL_NAMES:
        raise KeyError(model)
    return WEIGHT_SOURCES.get(model, WeightSources())


def offered(model: str) -> list[str]:
    """The keyword sources ``model`` can load, for error messages."""
    sources = weight_sources(model)
    return [name for name in ("imagenet", "pytorchcv", "torchvision") if getattr(sources, name)]
