"""The names of the networks, grouped as the stages ask for them; each read from the one table of records,
``config/networks.py``.

Torch-free on purpose: the Snakefile reads these lists when it parses the workflow (possibly in an
environment without PyTorch), and the model builders and the config schema are checked against them.
"""

from __future__ import annotations

from .networks import BACKBONE_NAMES, NETWORKS, OWN_BACKBONES, TORCHVISION_BACKBONES

__all__ = ["BACKBONE_NAMES", "OWN_BACKBONES", "TORCHVISION_BACKBONES"]


def _family(name: str) -> list:
    return [record for record in NETWORKS.values() if record.family == name]


# Original BagNets (unpadded): name -> the patch width every logit sees. Only these have exact
# stride-1 patch heatmaps.
ORIGINAL_BAGNETS = {r.name: r.receptive_field for r in NETWORKS.values() if r.exact_heatmaps}
# BagNets-v2: the same patch widths, padded convolutions and a one-conv stem.
BAGNETS_V2 = {r.name: r.receptive_field for r in _family("bagnet_v2")}
# The report's CNN baselines.
CNN_BASELINES = tuple(r.name for r in _family("report_cnn"))
BAGNET_NAMES = tuple(ORIGINAL_BAGNETS) + tuple(BAGNETS_V2)
# The classifier heads a network can be built with (models/registry.py): the report's, or one linear layer.
HEADS = ("report", "linear")
# Each backbone classifier's backbone.
BACKBONE_CLASSIFIERS = {r.name: r.backbone for r in _family("backbone")}
# The hand-written networks; any torchvision classifier is also one as ``torchvision:<name>``.
MODEL_NAMES = tuple(NETWORKS)
# The regular expression of every model's file-name form (the Snakefile's wildcard: config/file_names.py).
MODEL_PATTERN = "|".join([*MODEL_NAMES, r"torchvision-[a-z][a-z0-9_]*"])


def heatmap_models(models: list[str]) -> list[str]:
    """The models of ``models`` with exact stride-1 heatmaps, smallest patch first."""
    return sorted((m for m in models if m in ORIGINAL_BAGNETS), key=ORIGINAL_BAGNETS.__getitem__)


def backbone_study(names: str | list[str], data_source: str) -> list[str]:
    """The backbones the table measures: ``all``, a list, or ``auto``: all for the report's data and the demo,
    none for a user's own folder (the table measures the networks, not the data, and costs minutes)."""
    if names == "auto":
        names = "all" if data_source in ("url", "local", "demo") else []
    return list(BACKBONE_NAMES) if names == "all" else list(names)


def reference_model(models: list[str], configured: str | None = None) -> str:
    """The network the paired tests compare the others with: the configured one when the run trains it (the
    report's config names bagnet33, and a config laid over it may train other networks), else the run's first
    BagNet, else its first network."""
    if configured in models:
        return str(configured)
    return next((model for model in models if model in BAGNET_NAMES), models[0])


def main_heatmap_model(models: list[str]) -> str | None:
    """The model that picks the heatmap images and draws Figures 2 and 4: the largest patch available."""
    candidates = heatmap_models(models)
    return candidates[-1] if candidates else None
