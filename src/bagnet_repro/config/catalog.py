"""The name of every network the pipeline builds, in one place.

Torch-free on purpose: the Snakefile reads these lists when it parses the workflow (possibly in an
environment without PyTorch), and the model builders and the config schema are checked against them.
"""

from __future__ import annotations

# Original BagNets (unpadded): name -> the patch width every logit sees. Only these have exact
# stride-1 patch heatmaps.
ORIGINAL_BAGNETS = {"bagnet9": 9, "bagnet17": 17, "bagnet33": 33}
# BagNets-v2: the same patch widths, padded convolutions and a one-conv stem.
BAGNETS_V2 = {f"{name}_v2": patch for name, patch in ORIGINAL_BAGNETS.items()}
# The report's CNN baselines.
CNN_BASELINES = ("resnet50", "densenet121", "densenet169", "cbam_resnet50")
BAGNET_NAMES = tuple(ORIGINAL_BAGNETS) + tuple(BAGNETS_V2)
# The classifier heads a network can be built with (models/registry.py): the report's, or one linear layer.
HEADS = ("report", "linear")
# The vision-toolbox backbones: our own families, and torchvision's builder names (multi-scale through
# create_feature_extractor).
OWN_BACKBONES = (
    "darknet19",
    "darknet53",
    "cspdarknet19",
    "cspdarknet53",
    "vovnet19_slim",
    "vovnet39",
    "vovnet57",
    "vovnet99",
)
TORCHVISION_BACKBONES = (
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "wide_resnet50_2",
    "wide_resnet101_2",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    *(f"efficientnet_b{i}" for i in range(8)),
)
BACKBONE_NAMES = OWN_BACKBONES + TORCHVISION_BACKBONES
# A backbone's classifier takes the backbone's name, except where the report already uses that name for
# another network: ``resnet50`` is the report's pytorchcv layout, torchvision's is ``resnet50_torchvision``.
BACKBONE_CLASSIFIERS = {(f"{name}_torchvision" if name in CNN_BASELINES else name): name for name in BACKBONE_NAMES}
MODEL_NAMES = BAGNET_NAMES + CNN_BASELINES + tuple(BACKBONE_CLASSIFIERS)


def heatmap_models(models: list[str]) -> list[str]:
    """The models of ``models`` with exact stride-1 heatmaps, smallest patch first."""
    return sorted((m for m in models if m in ORIGINAL_BAGNETS), key=ORIGINAL_BAGNETS.__getitem__)


def main_heatmap_model(models: list[str]) -> str | None:
    """The model that picks the heatmap images and draws Figures 2 and 4: the largest patch available."""
    candidates = heatmap_models(models)
    return candidates[-1] if candidates else None
