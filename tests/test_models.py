"""Every model builds and trains a step; BagNets (original and v2) have the published parameter counts."""

import pytest
import torch
import yaml

from bagnet_repro.config.catalog import BACKBONE_CLASSIFIERS, BACKBONE_NAMES
from bagnet_repro.errors import UserError
from bagnet_repro.models import MODEL_NAMES, build_model, get_bagnet
from helpers import PROJECT, run_cli


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    "name,count",
    [
        ("bagnet9", 15_688_744),
        ("bagnet17", 16_213_032),
        ("bagnet33", 18_310_184),
        ("cbam_resnet50", 28_089_624),
        ("resnet50", 25_557_032),
        ("bagnet9_v2", 15_653_416),
        ("bagnet17_v2", 16_177_704),
        ("bagnet33_v2", 18_274_856),
    ],
)
def test_parameter_counts_at_1000_classes(name, count):
    assert n_params(build_model(name, 1000, head="linear")) == count
    if name.startswith("bagnet"):
        assert n_params(get_bagnet(name)) == count


@pytest.mark.parametrize("name", ["bagnet9_v2", "bagnet17_v2", "bagnet33_v2"])
def test_v2_bagnets_are_padded_with_a_single_3x3_stem(name):
    model = get_bagnet(name, num_classes=7).eval()
    assert model.conv2 is None and model.conv1.in_channels == 3 and model.conv1.padding == (1, 1)
    assert model.bn1.momentum == 0.1
    x = torch.randn(1, 3, 224, 224, dtype=torch.float64)
    with torch.no_grad():
        logit_map = model.double().logit_map(x)
        torch.testing.assert_close(logit_map.mean(dim=(2, 3)), model(x))
    assert logit_map.shape == (1, 7, 28, 28)


def test_model_and_recipe_names_are_listed_once_and_agree():
    from bagnet_repro.config.networks import NETWORKS
    from bagnet_repro.config.recipes import RECIPES
    from bagnet_repro.models.sources import WEIGHT_SOURCES

    schema = yaml.safe_load((PROJECT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    # A model name is checked against the table of networks (config/networks.py), not listed in the schema.
    assert schema["$defs"]["model_name"]["type"] == "string" and "enum" not in schema["$defs"]["model_name"]
    assert tuple(schema["$defs"]["recipe"]["enum"]) == tuple(RECIPES)
    assert tuple(schema["$defs"]["backbone_name"]["enum"]) == BACKBONE_NAMES
    # Every place of the schema that takes a model or recipe name refers to those definitions.
    text = (PROJECT / "workflow" / "schemas" / "config.schema.yaml").read_text()
    assert text.count("cbam_resnet50") == 0 and text.count("bagnets_v2,") == 1
    assert text.count('$ref: "#/$defs/model_name"') == 3 and text.count('$ref: "#/$defs/recipe"') == 3
    assert text.count(" vovnet39,") == 1 and text.count('$ref: "#/$defs/backbone_name"') == 1
    # The catalog's names are the table's; the rules take them from the package.
    assert tuple(NETWORKS) == MODEL_NAMES
    assert set(WEIGHT_SOURCES) <= set(MODEL_NAMES)
    rules = "".join(p.read_text() for p in (PROJECT / "workflow" / "rules").glob("*.smk"))
    assert '"bagnet33"' not in rules and '"densenet121"' not in rules


@pytest.mark.parametrize("name,size", [("bagnet9", 27), ("bagnet17", 26), ("bagnet33", 24)])
def test_bagnet_logit_map_size_and_mean(name, size):
    model = build_model(name, 5, head="linear").eval().double()
    x = torch.randn(1, 3, 224, 224, dtype=torch.float64)
    with torch.no_grad():
        logit_map = model.logit_map(x)
        pooled = model(x)
    assert logit_map.shape == (1, 5, size, size)
    torch.testing.assert_close(logit_map.mean(dim=(2, 3)), pooled)


# The report's networks, and one classifier per backbone family (tests/test_backbones.py covers every backbone).
ONE_STEP_MODELS = [m for m in MODEL_NAMES if m not in BACKBONE_CLASSIFIERS] + [
    "darknet19",
    "cspdarknet19",
    "vovnet19_slim",
    "resnet50_torchvision",
    "resnext50_32x4d",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "efficientnet_b0",
]


@pytest.mark.parametrize("name", ONE_STEP_MODELS)
def test_every_model_trains_one_step_with_the_report_head(name):
    torch.manual_seed(0)
    model = build_model(name, 15)
    head = model.classifier if hasattr(model, "classifier") else model.fc
    assert [type(m).__name__ for m in head] == ["Dropout", "Linear", "SELU", "Dropout", "Linear"]
    assert head[0].p == 0.6 and head[3].p == 0.8 and head[1].out_features == 512
    loss = torch.nn.functional.cross_entropy(model(torch.randn(2, 3, 64, 64)), torch.tensor([0, 14]))
    loss.backward()
    assert torch.isfinite(loss)


def test_unknown_model_name_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="unknown model 'vgg16'"):
        build_model("vgg16", 15)
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("split\tclass\tpath\tsha256\n")
    result = run_cli(
        "train",
        "--manifest",
        str(manifest),
        "--model",
        "vgg16",
        "--best",
        str(tmp_path / "b.pt"),
        "--history",
        str(tmp_path / "h.csv"),
        "--checkpoint",
        str(tmp_path / "c.pt"),
        "--recipe",
        "report",
        "--seed",
        "0",
        "--device",
        "cpu",
        "--threads",
        "1",
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.tsv"]
