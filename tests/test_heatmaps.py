"""Stride-1 patch heatmaps: the fast dense pass equals the patch-cropping reference, for every class."""

import pytest
import torch

from bagnet_repro.errors import UserError
from bagnet_repro.heatmaps import patch_logits
from bagnet_repro.models import build_model, get_bagnet
from helpers import randomize_batchnorm


def eval_bagnet(name, classes=15, seed=0):
    """A random-init BagNet in eval mode with non-trivial BN statistics."""
    torch.manual_seed(seed)
    return randomize_batchnorm(get_bagnet(name, num_classes=classes)).eval()


@pytest.mark.parametrize("name", ["bagnet9", "bagnet17", "bagnet33"])
def test_fast_method_equals_reference_for_all_classes(name):
    model = eval_bagnet(name)
    images = torch.randn(2, 3, 15, 18)
    reference = patch_logits(model, images, method="reference", progress=False)
    fast = patch_logits(model, images, method="fast", progress=False)
    assert reference.shape == fast.shape == (2, 15, 15, 18)
    scale = reference.abs().max()
    assert (fast - reference).abs().max() <= 1e-4 * scale
    # The centre pixel's patch, classified on its own, is the reference value (centring and padding).
    patch = model.config.receptive_field
    half = (patch - 1) // 2
    padded = torch.nn.functional.pad(images[1:], (half, half, half, half))
    with torch.no_grad():
        alone = model(padded[:, :, 7 : 7 + patch, 9 : 9 + patch])[0]
    assert (reference[1, :, 7, 9] - alone).abs().max() <= 1e-5 * scale


def test_report_head_is_applied_per_patch():
    torch.manual_seed(0)
    model = build_model("bagnet9", 15, head="report").eval()
    images = torch.randn(1, 3, 12, 14)
    reference = patch_logits(model, images, method="reference", progress=False)
    fast = patch_logits(model, images, progress=False)
    assert (fast - reference).abs().max() <= 1e-4 * reference.abs().max()


def test_row_bands_give_the_same_numbers_as_one_pass():
    model = eval_bagnet("bagnet17")
    images = torch.randn(1, 3, 21, 16)
    whole = patch_logits(model, images, progress=False)
    banded = patch_logits(model, images, memory_mb=20, progress=False)  # 4 rows per band
    assert (whole - banded).abs().max() <= 1e-5 * whole.abs().max()


def test_models_without_exact_patch_logits_say_so():
    images = torch.randn(1, 3, 32, 32)
    v2 = get_bagnet("bagnet33_v2", num_classes=4).eval()
    with pytest.raises(UserError, match="bagnet33_v2 pads its convolutions, so use method='upsampled'"):
        patch_logits(v2, images)
    coarse = patch_logits(v2, images, method="upsampled")
    assert coarse.shape == (1, 4, 32, 32)
    resnet = build_model("resnet50", 4, head="linear").eval()
    with pytest.raises(UserError, match="ResNet is not a BagNet: no heatmap method applies to it"):
        patch_logits(resnet, images)  # not told to use upsampled: that needs a BagNet too
    with pytest.raises(UserError, match="ResNet has no per-location logit map, so no heatmap method applies"):
        patch_logits(resnet, images, method="upsampled")
    with pytest.raises(UserError, match="eval mode"):
        patch_logits(get_bagnet("bagnet9", num_classes=4), images)
    with pytest.raises(UserError, match="unknown heatmap method 'slow'"):
        patch_logits(v2, images, method="slow")


def test_image_choice_spreads_over_classes_and_names_unknown_images(tmp_path):
    from bagnet_repro.config.classes import REPORT_CLASSES
    from bagnet_repro.heatmaps.selection import choose_images

    table = tmp_path / "predictions.tsv"
    lines = ["split\tpath\tsha256\tlabel\tprediction\tcorrect"]
    for index, label in enumerate(REPORT_CLASSES):
        lines.append(f"test\t/d/{label}/b.jpg\tk{index}\t{label}\t{label}\t1")
        lines.append(f"test\t/d/{label}/a.jpg\tw{index}\t{label}\tStore\t0")  # wrong: never picked
    lines.append(f"val\t/d/x.jpg\tv\t{REPORT_CLASSES[0]}\t{REPORT_CLASSES[0]}\t1")
    table.write_text("\n".join(lines) + "\n")
    picked = choose_images(str(table), 3, [])
    assert [r["label"] for r in picked] == [REPORT_CLASSES[0], REPORT_CLASSES[7], REPORT_CLASSES[14]]
    assert all(r["path"].endswith("b.jpg") for r in picked)
    assert [r["path"] for r in choose_images(str(table), 3, ["Forest/a.jpg"])] == ["/d/Forest/a.jpg"]
    with pytest.raises(UserError, match="heatmaps.images: 'nope.jpg' is not a test image"):
        choose_images(str(table), 3, ["nope.jpg"])


@pytest.mark.parametrize("method", ["reference", "fast", "upsampled"])
def test_an_empty_batch_is_one_line_for_every_method(method):
    model = get_bagnet("bagnet9", num_classes=3).eval()
    with pytest.raises(UserError, match=r"images is an empty batch \(0 x 3 x H x W\)"):
        patch_logits(model, torch.zeros(0, 3, 40, 40), method=method, progress=False)
