"""The seven models build, train a step, and the original BagNets have the published parameter counts."""

import pytest
import torch

from bagnet_repro.models import MODEL_NAMES, build_model
from bagnet_repro.errors import UserError
from conftest import run_cli


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,count", [("bagnet9", 15_688_744), ("bagnet17", 16_213_032),
                                        ("bagnet33", 18_310_184), ("cbam_resnet50", 28_089_624),
                                        ("resnet50", 25_557_032)])
def test_parameter_counts_at_1000_classes(name, count):
    assert n_params(build_model(name, 1000, head="linear")) == count


@pytest.mark.parametrize("name,size", [("bagnet9", 27), ("bagnet17", 26), ("bagnet33", 24)])
def test_bagnet_logit_map_size_and_mean(name, size):
    model = build_model(name, 5, head="linear").eval().double()
    x = torch.randn(1, 3, 224, 224, dtype=torch.float64)
    with torch.no_grad():
        logit_map = model.logit_map(x)
        pooled = model(x)
    assert logit_map.shape == (1, 5, size, size)
    torch.testing.assert_close(logit_map.mean(dim=(2, 3)), pooled)


@pytest.mark.parametrize("name", MODEL_NAMES)
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
    result = run_cli("train", "--manifest", str(manifest), "--model", "vgg16", "--best", str(tmp_path / "b.pt"),
                     "--history", str(tmp_path / "h.csv"), "--checkpoint", str(tmp_path / "c.pt"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.tsv"]
