"""Every network the pipeline trains, one record each: its facts in one place, as timm's ``default_cfgs``
and torchvision's ``Weights.meta`` keep them.

Torch-free on purpose (the Snakefile, the config check and the report's notebooks read it): a record names
its builder by a dotted path that only ``models/`` imports. Any torchvision classification network is also a
network here by the name ``torchvision:<its name in torchvision's model list>``; its record is made from the
table of torchvision's families below. Adding a hand-written network is one record in ``NETWORKS`` and one
builder (docs/models-and-weights.md).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from .torchvision_models import TORCHVISION_MODELS, TORCHVISION_VERSION

# The report's scrambled test cut each image into a REPORT_SCRAMBLE_GRID x REPORT_SCRAMBLE_GRID grid: its
# scrambled values compare only with a run on the same grid.
REPORT_SCRAMBLE_GRID = 4
WHOLE_IMAGE = "whole image"
TORCHVISION_PREFIX = "torchvision:"
TORCHVISION_NAME = re.compile(r"^torchvision:[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class WeightSources:
    """The published files of one network, by source keyword (None: not offered)."""

    imagenet: str | None = None  # original BagNets: file name under BITBUCKET (sha256 prefix in the name)
    pytorchcv: str | None = None  # the imgclsmob/pytorchcv model name (sha1 recorded by the package)
    torchvision: str | None = None  # "<WeightsEnum>.<member>" of torchvision.models, or "DEFAULT" (its default)

    def offered(self) -> list[str]:
        return [name for name in ("imagenet", "pytorchcv", "torchvision") if getattr(self, name)]


@dataclass(frozen=True)
class Network:
    """One network: what builds it, where its classifier sits, what it loads and what the report measured."""

    name: str
    family: str
    # "module:function", called as function(network, num_classes, image_size) -> an nn.Module (random init).
    builder: str
    # Dotted path of the final linear layer the head replaces (``classifier.1``: the second module of classifier).
    classifier: str
    weights: WeightSources = field(default_factory=WeightSources)
    # The report's Table 1 (validation, test, scrambled on REPORT_SCRAMBLE_GRID); None where it gives no value.
    report: tuple[float | None, float | None, float | None] | None = None
    receptive_field: int | str = WHOLE_IMAGE  # the patch every logit sees, or "whole image"
    receptive_note: str = ""  # said beside its receptive field in Figure 1's table
    min_size: int = 32  # the smallest input it takes (pixels)
    fixed_size: int | None = None  # the only input size it takes, if any
    exact_heatmaps: bool = False  # stride-1 patch heatmaps are exact for it (unpadded BagNets)
    backbone: str = ""  # the vision-toolbox backbone it classifies with (family "backbone")


_BUILDERS = "bagnet_repro.models.builders"
_BAGNET = f"{_BUILDERS}:bagnet"
_BACKBONE = f"{_BUILDERS}:backbone_classifier"
_TORCHVISION = f"{_BUILDERS}:torchvision_model"
_PATCHES = {"bagnet9": 9, "bagnet17": 17, "bagnet33": 33}
_BAGNET_REPORT = {"bagnet9": (0.853, 0.840, None), "bagnet17": (0.913, 0.905, None), "bagnet33": (0.947, 0.925, 0.90)}
_BAGNET_FILES = {"bagnet9": "bagnet8-34f4ccd2.pth.tar", "bagnet17": "bagnet16-105524de.pth.tar"}
_BAGNET_FILES["bagnet33"] = "bagnet32-2ddd53ed.pth.tar"

_RECORDS = [
    *(
        Network(
            name,
            "bagnet",
            _BAGNET,
            "fc",
            WeightSources(imagenet=_BAGNET_FILES[name]),
            _BAGNET_REPORT[name],
            patch,
            exact_heatmaps=True,
        )
        for name, patch in _PATCHES.items()
    ),
    *(Network(f"{name}_v2", "bagnet_v2", _BAGNET, "fc", receptive_field=patch) for name, patch in _PATCHES.items()),
    Network(
        "resnet50",
        "report_cnn",
        f"{_BUILDERS}:resnet50",
        "fc",
        WeightSources(pytorchcv="resnet50"),
        (0.913, 0.907, 0.50),
        receptive_note="the report's ResNet-50 (pytorchcv): stride in the first 1x1 conv of each stage",
    ),
    Network(
        "densenet121",
        "report_cnn",
        f"{_BUILDERS}:densenet121",
        "classifier",
        WeightSources(pytorchcv="densenet121", torchvision="DenseNet121_Weights.IMAGENET1K_V1"),
        (0.933, 0.918, 0.57),
    ),
    Network(
        "densenet169",
        "report_cnn",
        f"{_BUILDERS}:densenet169",
        "classifier",
        WeightSources(pytorchcv="densenet169", torchvision="DenseNet169_Weights.IMAGENET1K_V1"),
        (0.953, 0.922, 0.58),
    ),
    Network(
        "cbam_resnet50",
        "report_cnn",
        f"{_BUILDERS}:cbam_resnet50",
        "fc",
        WeightSources(pytorchcv="cbam_resnet50"),
        (0.953, 0.934, 0.73),
        receptive_note="plus channel attention pooled over the whole image",
    ),
]


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


def _backbone_records(reserved: set[str]) -> list[Network]:
    """A backbone's classifier takes the backbone's name, except where the report already uses that name for
    another network: ``resnet50`` is the report's pytorchcv layout, torchvision's is ``resnet50_torchvision``."""
    return [
        Network(f"{name}_torchvision" if name in reserved else name, "backbone", _BACKBONE, "fc", backbone=name)
        for name in BACKBONE_NAMES
    ]


# Every hand-written network (and the report's), by name.
NETWORKS: dict[str, Network] = {r.name: r for r in _RECORDS + _backbone_records({r.name for r in _RECORDS})}


# torchvision's classification families (by the start of the model's name in torchvision's list): where the
# final linear layer sits, and the input size a family is fixed to (its positional embeddings). SqueezeNet is
# not one: its classifier is a convolution, which neither head replaces.
TORCHVISION_FAMILIES = (
    # (name prefix, classifier path, fixed size)
    ("alexnet", "classifier.6", None),
    ("convnext", "classifier.2", None),
    ("densenet", "classifier", None),
    ("efficientnet", "classifier.1", None),
    ("googlenet", "fc", None),
    ("inception", "fc", None),
    ("maxvit", "classifier.5", 224),
    ("mnasnet", "classifier.1", None),
    ("mobilenet_v2", "classifier.1", None),
    ("mobilenet_v3", "classifier.3", None),
    ("regnet", "fc", None),
    ("resnet", "fc", None),
    ("resnext", "fc", None),
    ("shufflenet", "fc", None),
    ("swin", "head", None),
    ("vgg", "classifier.6", None),
    ("vit", "heads.head", 224),
    ("wide_resnet", "fc", None),
)


def torchvision_network(name: str) -> Network | None:
    """The record of ``torchvision:<model>``, or None when the name is not of that form, not in torchvision's
    model list (``torchvision_models.py``) or its family is not in TORCHVISION_FAMILIES."""
    if not TORCHVISION_NAME.match(name):
        return None
    model = name[len(TORCHVISION_PREFIX) :]
    if model not in TORCHVISION_MODELS:
        return None
    for prefix, classifier, fixed in TORCHVISION_FAMILIES:
        if model.startswith(prefix):
            return Network(
                name,
                "torchvision",
                _TORCHVISION,
                classifier,
                WeightSources(torchvision="DEFAULT"),
                fixed_size=fixed,
                min_size=75 if prefix == "inception" else 32,
            )
    return None


def network(name: str) -> Network | None:
    """The record of ``name``: one of NETWORKS or a ``torchvision:<model>``; None for an unknown name."""
    return NETWORKS.get(name) or torchvision_network(name)


def unknown_network_problem(name: str) -> str:
    """Why ``name`` is not a network, in words for one line."""
    if name.startswith(TORCHVISION_PREFIX):
        model = name[len(TORCHVISION_PREFIX) :]
        if model not in TORCHVISION_MODELS:
            close = difflib.get_close_matches(model, TORCHVISION_MODELS, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(TORCHVISION_PREFIX + c for c in close)}?" if close else ""
            return f"{name!r} is not in torchvision {TORCHVISION_VERSION}'s model list{hint}"
        families = ", ".join(prefix for prefix, _, _ in TORCHVISION_FAMILIES)
        return f"{name!r} is not a torchvision classification network of the families {families}"
    return f"{name!r} is not one of: {', '.join(NETWORKS)}, torchvision:<name>"
