"""Where the published weights live, and each network's sources as its record (``config/networks.py``) gives them.

A source is offered for a model only when that file holds exactly our network. torchvision's ResNet-50
strides on the 3x3 conv (the report's pytorchcv ResNet-50 on the first 1x1), so it has no entry.
"""

from __future__ import annotations

from ..config.networks import NETWORKS, WeightSources, network

BITBUCKET = (
    "https://bitbucket.org/wielandbrendel/bag-of-feature-pretrained-models/raw/"
    "249e8fa82c0913623a807d9d35eeab9da7dcc2a8/"
)
IMGCLSMOB = "https://github.com/osmr/imgclsmob"

# The hand-written networks that have published files.
WEIGHT_SOURCES: dict[str, WeightSources] = {
    name: record.weights for name, record in NETWORKS.items() if record.weights.offered()
}


def weight_sources(model: str) -> WeightSources:
    """The sources of ``model``; models without published files (BagNets-v2) have none."""
    record = network(model)
    if record is None:
        raise KeyError(model)
    return record.weights


def offered(model: str) -> list[str]:
    """The keyword sources ``model`` can load, for error messages."""
    return weight_sources(model).offered()
