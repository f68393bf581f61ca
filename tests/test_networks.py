"""One record per network (config/networks.py): every record builds, its classifier sits where it says, any
torchvision classifier is a network by name, and a new hand-written network is one record and one builder."""

import pytest
import torch
from torch import nn
from torchvision import models as tv_models

from bagnet_repro.config import networks
from bagnet_repro.config.checks import check_workflow_config
from bagnet_repro.config.loading import load_yaml_file, merged
from bagnet_repro.errors import UserError
from bagnet_repro.models import build_model
from helpers import PROJECT

CLASSES = 3


def classifier_of(model: nn.Module, record: networks.Network) -> nn.Module:
    return model.get_submodule(record.classifier)


# The backbone classifiers trace their torchvision trunk (seconds each): two run by default, all with -m slow.
EVERY_RECORD = [
    pytest.param(name, marks=pytest.mark.slow)
    if record.family == "backbone" and name not in ("vovnet19_slim", "mobilenet_v3_small")
    else name
    for name, record in networks.NETWORKS.items()
]


@pytest.mark.parametrize("name", EVERY_RECORD)
def test_every_record_builds_with_its_classifier_where_it_says(name):
    record = networks.NETWORKS[name]
    with torch.device("meta"):  # the structure without the cost of initialising the weights
        model = build_model(name, CLASSES, head="linear", image_size=64)
        report = build_model(name, CLASSES, head="report", image_size=64)
    head = classifier_of(model, record)
    assert isinstance(head, nn.Linear) and head.out_features == CLASSES
    assert isinstance(classifier_of(report, record), nn.Sequential)


def test_every_torchvision_classifier_but_squeezenet_belongs_to_a_family_of_the_table():
    names = tv_models.list_models(module=tv_models)
    unknown = [name for name in names if networks.network(f"torchvision:{name}") is None]
    assert len(names) > 70 and unknown == ["squeezenet1_0", "squeezenet1_1"]  # its classifier is a convolution


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "efficientnet_b0", "squeezenet1_0"])
def test_a_torchvision_network_by_name(name):
    if name == "squeezenet1_0":  # a family the table does not know: one line, before anything is built
        with pytest.raises(UserError, match="not a torchvision classification network"):
            build_model(f"torchvision:{name}", CLASSES)
        return
    record = networks.network(f"torchvision:{name}")
    model = build_model(record.name, CLASSES, head="report", image_size=48).eval()
    assert classifier_of(model, record)[-1].out_features == CLASSES
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 48, 48)).shape == (1, CLASSES)


def test_an_unknown_torchvision_model_is_one_line():
    with pytest.raises(UserError, match=r"'torchvision:resnet7' is not in torchvision [0-9.]+'s model list"):
        build_model("torchvision:resnet7", CLASSES)


def test_the_committed_torchvision_list_is_torchvisions_own():
    """Planning checks torchvision names against a committed list (torch-free); it must be torchvision's."""
    import torchvision

    from bagnet_repro.config.torchvision_models import TORCHVISION_MODELS, TORCHVISION_VERSION

    assert tuple(sorted(tv_models.list_models(module=tv_models))) == TORCHVISION_MODELS
    assert torchvision.__version__.split("+")[0] == TORCHVISION_VERSION


def test_a_misspelt_torchvision_name_is_refused_at_start_up_with_the_closest_names():
    with pytest.raises(UserError) as refused:
        check_workflow_config(config_with(models=["bagnet9", "torchvision:resnet19"]))
    assert str(refused.value) == (
        "config error at 'models.1': 'torchvision:resnet19' is not in torchvision "
        f"{tv_version()}'s model list; did you mean torchvision:resnet18, torchvision:resnet152, "
        "torchvision:resnet101?"
    )


def tv_version() -> str:
    import torchvision

    return torchvision.__version__.split("+")[0]


def config_with(**changes) -> dict:
    return merged(load_yaml_file(PROJECT / "config.yaml"), changes)


def test_the_config_check_reads_the_table():
    check_workflow_config(config_with(models=["bagnet9", "torchvision:mobilenet_v3_small"]))
    with pytest.raises(UserError, match=r"config error at 'models.1': 'bagnet5' is not one of: bagnet9, "):
        check_workflow_config(config_with(models=["bagnet9", "bagnet5"]))
    with pytest.raises(UserError, match=r"'train.image_size': torchvision:vit_b_16 takes 224 px images only, not 48"):
        check_workflow_config(config_with(models=["torchvision:vit_b_16"], train={"image_size": 48}))
    with pytest.raises(UserError, match=r"config error at 'weights.models': 'resnet7' is not one of"):
        check_workflow_config(config_with(weights={"models": {"resnet7": "imagenet"}}))


class TinyNet(nn.Module):
    """A hand-written network for the test: one conv, pooled, one linear ``head.out``."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Sequential()
        self.head.add_module("out", nn.Linear(4, num_classes))

    def forward(self, x):
        return self.head(self.conv(x).mean(dim=(2, 3)))


def tiny_builder(network, num_classes, image_size):
    return TinyNet(num_classes)


def test_a_new_network_is_one_record_and_one_builder(monkeypatch):
    record = networks.Network("tinynet", "example", f"{__name__}:tiny_builder", "head.out", min_size=8)
    monkeypatch.setitem(networks.NETWORKS, "tinynet", record)  # the one record
    config = check_workflow_config(config_with(models=["tinynet"], train={"image_size": 32}))
    assert config["models"] == ["tinynet"]
    model = build_model("tinynet", CLASSES, head="report")
    assert isinstance(model.head.out, nn.Sequential)  # the report's head, where the record says
    loss = nn.functional.cross_entropy(model.train()(torch.randn(2, 3, 16, 16)), torch.tensor([0, 2]))
    loss.backward()
    assert model.conv.weight.grad is not None
