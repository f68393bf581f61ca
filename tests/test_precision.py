"""Precision study: the census finds planted dead layers; every numeric mode is run or says why not."""

import torch

from bagnet_repro.evaluation.precision import dead_layer_census, precision_rows, weight_histogram
from bagnet_repro.models import build_model


def test_census_finds_a_planted_dead_layer_and_dead_filters():
    torch.manual_seed(0)
    model = build_model("bagnet9", 15, head="linear")
    with torch.no_grad():
        model.layer1[1].conv1.weight.mul_(1e-8)  # as in the original ImageNet BagNet weights
        model.layer2[0].conv3.weight[:128].zero_()  # a quarter of this layer's 512 filters
    census = {row["layer"]: row for row in dead_layer_census(model)}
    assert census["layer1.1.conv1"]["dead_layer"] and census["layer1.1.conv1"]["dead_filter_fraction"] == 1.0
    assert census["layer1.1.conv1"]["max_abs_weight"] < 1e-6
    assert census["layer2.0.conv3"]["dead_filter_fraction"] == 0.25 and not census["layer2.0.conv3"]["dead_layer"]
    others = [row for name, row in census.items() if name not in ("layer1.1.conv1", "layer2.0.conv3")]
    assert others and not any(row["dead_filter_fraction"] for row in others)
    counts, edges = weight_histogram(model, bins=11)
    assert counts.sum() == sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert counts[5] >= model.layer1[1].conv1.weight.numel()  # the dead weights sit in the central bin


def test_precision_modes_on_cpu():
    torch.manual_seed(0)
    model = build_model("bagnet9", 15, head="linear").eval()
    images = torch.randint(0, 256, (6, 3, 40, 40), dtype=torch.uint8)
    labels = torch.arange(6)
    rows = {row["mode"]: row for row in precision_rows(model, images, labels, torch.device("cpu"), batch_size=4)}
    assert list(rows) == ["fp32", "tf32", "bf16", "fp16"]
    assert rows["fp32"]["max_abs_logit_diff"] == 0.0 and rows["fp32"]["top1_agreement"] == 1.0
    assert rows["tf32"]["status"].startswith("not run: TF32 exists only on NVIDIA GPUs")
    for mode in ("bf16", "fp16"):
        assert rows[mode]["status"] == "ok" and rows[mode]["max_abs_logit_diff"] > 0
        assert 0.0 <= rows[mode]["accuracy"] <= 1.0
