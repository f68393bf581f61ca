"""``bagnet-repro explain``: heatmaps of any image at its own size, equal to ``patch_logits``."""

import json
import time

import numpy as np
import pytest
import torch
from PIL import Image

from bagnet_repro.data.loading import load_image, normalize
from bagnet_repro.heatmaps import patch_logits
from bagnet_repro.heatmaps.banded import banded_logits, coarse_logit_map, progress_steps
from bagnet_repro.heatmaps.budget import image_budget
from bagnet_repro.heatmaps.explain import for_drawing
from bagnet_repro.models import build_model, get_bagnet
from bagnet_repro.models.trained import save_trained
from helpers import PROJECT, randomize_batchnorm, run_cli


def save_checkpoint(best, model: str, classes: list[str], image_size: int, state_dict) -> None:
    """A pipeline checkpoint (best.pt) of ``model`` trained at ``image_size`` on ``classes``."""
    save_trained(
        best,
        model=model,
        head="linear",
        classes=classes,
        image_size=image_size,
        epoch=1,
        val_acc=0.5,
        val_loss=1.0,
        settings={},
        state_dict=state_dict,
    )


@pytest.fixture()
def photo(tmp_path):
    """A 120 x 80 (width x height) image: not square, not 224 and not a training size below, yet small, as every
    pixel's heatmap value costs a patch's forward pass on the CPU."""
    return random_image(tmp_path / "garden.png", 120, 80)


def random_image(path, width: int, height: int):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
    return path


def test_explain_writes_the_overlay_and_arrays_equal_to_patch_logits(tmp_path, photo):
    torch.manual_seed(0)
    model = randomize_batchnorm(get_bagnet("bagnet9", num_classes=10)).eval()
    weights = tmp_path / "bagnet9_state.pt"
    torch.save(model.state_dict(), weights)
    out = tmp_path / "explained"
    result = run_cli(
        "explain",
        str(photo),
        "--model",
        "bagnet9",
        "--weights",
        str(weights),
        "--classes",
        "3",
        "--out",
        str(out),
        "--device",
        "cpu",
        "--threads",
        "2",
    )
    assert result.returncode == 0, result.stderr
    assert (out / "garden.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "garden.png").read_bytes().startswith(b"\x89PNG")
    assert "explain" in result.stderr  # the progress bar
    saved = np.load(out / "garden.npz")
    image = load_image(str(photo), None)
    assert saved["image"].shape == (3, 80, 120) and np.array_equal(saved["image"], image.numpy())
    x = normalize(image[None])
    expected = patch_logits(model, x, progress=False)[0]
    with torch.no_grad():
        logits = model(x)[0]
    top = torch.argsort(logits, descending=True)[:3]
    assert saved["top"].tolist() == top.tolist()
    assert saved["heatmaps"].shape == (3, 80, 120)
    np.testing.assert_allclose(saved["heatmaps"], expected[top].numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(saved["logits"], logits.numpy(), rtol=0, atol=1e-5)
    # One pixel checked against its own 9 x 9 patch classified alone (zero padding at the border).
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    with torch.no_grad():
        alone = model(padded[:, :, 60:69, 20:29])[0]
    np.testing.assert_allclose(saved["heatmaps"][:, 60, 20], alone[top].numpy(), rtol=0, atol=1e-4)


def test_explain_a_pipeline_checkpoint_uses_its_class_names(tmp_path, photo):
    torch.manual_seed(1)
    model = get_bagnet("bagnet17", num_classes=4).eval()
    best = tmp_path / "best.pt"
    names = ["Coast", "Forest", "Highway", "Office"]
    save_checkpoint(best, "bagnet17", names, 48, model.state_dict())
    out = tmp_path / "out"
    result = run_cli(
        "explain",
        str(photo),
        str(photo),
        "--model",
        "bagnet17",
        "--weights",
        str(best),
        "--classes",
        "9",
        "--image-size",
        "48",
        "--out",
        str(out),
        "--device",
        "cpu",
        "--threads",
        "1",
    )
    assert result.returncode == 0, result.stderr
    saved = np.load(out / "garden.npz")
    assert list(saved["classes"]) == names and saved["heatmaps"].shape == (4, 48, 48)  # at most all classes
    assert (out / "garden_2.npz").is_file()  # a repeated name does not overwrite the first


def test_explain_errors_are_one_line(tmp_path, photo):
    torch.manual_seed(0)
    state = tmp_path / "v2.pt"
    torch.save(get_bagnet("bagnet9_v2", num_classes=3).state_dict(), state)
    common = ["--out", str(tmp_path / "o"), "--device", "cpu", "--threads", "1"]
    padded = run_cli("explain", str(photo), "--model", "bagnet9_v2", "--weights", str(state), *common)
    assert padded.returncode == 1 and "method='upsampled'" in padded.stderr.strip().splitlines()[-1]
    upsampled = run_cli(
        "explain", str(photo), "--model", "bagnet9_v2", "--weights", str(state), "--method", "upsampled", *common
    )
    assert upsampled.returncode == 0, upsampled.stderr
    missing = run_cli("explain", str(tmp_path / "nope.jpg"), "--model", "bagnet9", "--weights", str(state), *common)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == f"error: image not found: {tmp_path / 'nope.jpg'}"
    random = run_cli("explain", str(photo), "--model", "bagnet9", "--weights", "none", *common)
    assert random.returncode == 1 and "explain needs trained weights" in random.stderr


def explain_cli(tmp_path, *args):
    return run_cli("explain", *args, "--out", str(tmp_path / "o"), "--device", "cpu", "--threads", "1")


def one_line(result):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    return lines[-1]


@pytest.mark.parametrize("model,side", [("bagnet9", 1), ("bagnet33", 20)])
def test_an_image_smaller_than_the_receptive_field_is_one_line_before_any_forward(tmp_path, model, side):
    state = tmp_path / "state.pt"
    torch.save(get_bagnet(model, num_classes=3).state_dict(), state)
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (side, side + 5), (10, 20, 30)).save(tiny)
    patch = int(model[len("bagnet") :])
    line = one_line(explain_cli(tmp_path, str(tiny), "--model", model, "--weights", str(state)))
    assert line == (
        f"error: image {tiny} is {side} x {side + 5} px, too small for {model}: it needs at least "
        f"{patch} x {patch} px (its receptive field); enlarge it or pass --image-size {patch} or more"
    )
    assert not (tmp_path / "o").exists()


def test_image_size_is_checked_against_the_model(tmp_path, photo):
    state = tmp_path / "state.pt"
    torch.save(get_bagnet("bagnet17", num_classes=3).state_dict(), state)
    line = one_line(
        explain_cli(tmp_path, str(photo), "--model", "bagnet17", "--weights", str(state), "--image-size", "9")
    )
    assert line == (
        "error: --image-size 9 is too small for bagnet17: it needs images of at least 17 x 17 px (its receptive field)"
    )


@pytest.mark.parametrize("method", ["fast", "upsampled"])
def test_a_non_bagnet_checkpoint_is_not_told_to_use_upsampled(tmp_path, photo, method):
    model = build_model("resnet18", 4, head="linear").eval()
    best = tmp_path / "best.pt"
    save_checkpoint(best, "resnet18", list("abcd"), 32, model.state_dict())
    line = one_line(
        explain_cli(tmp_path, str(photo), "--model", "resnet18", "--weights", str(best), "--method", method)
    )
    assert "resnet18" in line and "no heatmap method applies to it" in line and "use method" not in line


def test_banded_forward_equals_the_whole_image_forward():
    """Tiles of the feature map (as a 5000 x 5000 image needs) give the logits and the coarse map exactly."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 150, 130)
    for name in ("bagnet9", "bagnet17_v2"):
        model = randomize_batchnorm(get_bagnet(name, num_classes=5)).eval()
        with torch.no_grad():
            whole, coarse = model(x)[0], model.logit_map(x)[0, [3, 1]]
        tiled = banded_logits(model, x, memory_mb=20)  # 20 MB: 9 tiles (bagnet9), 25 (bagnet17_v2)
        torch.testing.assert_close(tiled, whole, rtol=1e-4, atol=1e-4, msg=name)
        torch.testing.assert_close(
            coarse_logit_map(model, x, [3, 1], memory_mb=20), coarse, rtol=1e-4, atol=1e-4, msg=name
        )


def test_a_budget_too_small_for_one_band_is_refused_with_the_size_it_needs(tmp_path):
    photo = random_image(tmp_path / "garden.png", 300, 200)  # refused before any forward pass
    state = tmp_path / "state.pt"
    model = get_bagnet("bagnet9", num_classes=3)
    torch.save(model.state_dict(), state)
    line = one_line(
        explain_cli(tmp_path, str(photo), "--model", "bagnet9", "--weights", str(state), "--memory-mb", "16")
    )
    needed = image_budget(model, 200, 300, "fast", 3).needed_mb
    assert line.startswith(f"error: image {photo} (300 x 200 px) needs --memory-mb {needed} or more for bagnet9")
    assert "--memory-mb" in line and not list((tmp_path / "o").glob("*"))


def test_a_photos_budget_is_named_and_refused_from_its_size_before_any_forward(tmp_path):
    """4000 x 3000 px: the exact method's band of bagnet9 alone is over a gigabyte; a 500 MB budget is refused
    at once (no whole-image pass first), naming what this image needs."""
    photo = tmp_path / "photo.png"
    Image.new("RGB", (4000, 3000)).save(photo)
    state = tmp_path / "state.pt"
    model = get_bagnet("bagnet9", num_classes=3)
    torch.save(model.state_dict(), state)
    budget = image_budget(model, 3000, 4000, "fast", 3)
    assert 1100 < budget.smallest_pass_mb < 1200 and budget.needed_mb > 1200
    start = time.monotonic()
    result = explain_cli(tmp_path, str(photo), "--model", "bagnet9", "--weights", str(state), "--memory-mb", "500")
    line = one_line(result)
    assert line.startswith(f"error: image {photo} (4000 x 3000 px) needs --memory-mb {budget.needed_mb} or more")
    assert "the budget is 500 MB" in line and "image logits" not in result.stderr
    assert time.monotonic() - start < 60 and not (tmp_path / "o").exists()


def test_each_tiled_pass_shows_its_progress(capfd):
    torch.manual_seed(0)
    model = get_bagnet("bagnet9", num_classes=5).eval()
    x = torch.randn(1, 3, 150, 130)
    banded_logits(model, x, memory_mb=20)
    coarse_logit_map(model, x, [1], memory_mb=20)
    shown = capfd.readouterr().err
    # Counted in steps within each of the 9 tiles (the stem's convolutions and every block), so the bar moves
    # within seconds even where one tile's forward takes a minute.
    steps = 9 * len(progress_steps(model))
    assert steps >= 9 * 17 and "image logits (9 tiles)" in shown and "coarse logit map (9 tiles)" in shown, shown
    assert f"{steps}/{steps}" in shown, shown


def test_a_figure_draws_a_photo_at_most_1024_px_a_side():
    assert for_drawing(np.zeros((3, 3000, 4000))).shape == (3, 750, 1000)
    assert for_drawing(np.zeros((2, 200, 300))).shape == (2, 200, 300)


def test_a_16_bit_image_is_explained_mid_grey(tmp_path):
    grey = tmp_path / "grey16.png"
    Image.fromarray(np.full((24, 30), 0x8080, dtype=np.uint16)).save(grey)
    state = tmp_path / "state.pt"
    torch.save(get_bagnet("bagnet9", num_classes=3).state_dict(), state)
    result = explain_cli(tmp_path, str(grey), "--model", "bagnet9", "--weights", str(state))
    assert result.returncode == 0, result.stderr[-2000:]
    assert np.unique(np.load(tmp_path / "o" / "grey16.npz")["image"]).tolist() == [128]


SMALL_BUDGETS = PROJECT / "benchmarks/results/explain_small_budget_cpu_2threads.json"


def _small_budget_runs():
    """The measured runs of explain (bagnet33, upsampled) on a 1200 x 900 JPEG, and the smallest budget the
    estimate in force accepts for that image."""
    measured = json.loads(SMALL_BUDGETS.read_text())
    width, height = (int(side) for side in measured["image"].split(" px")[0].split(" x "))
    model = get_bagnet(measured["model"], num_classes=1000)
    needed = image_budget(model, height, width, measured["method"], measured["classes_drawn"]).needed_mb
    return measured["runs"], needed


def test_the_smallest_budget_accepted_is_not_below_a_measured_peak():
    """The smallest budget accepted now gives the passes no more than the smallest measured one did (an estimate
    raised since only shrinks them), so its peak is at most that run's, which the estimate must cover."""
    runs, needed = _small_budget_runs()
    assert len(runs) >= 2 and all(run["needed_mb"] <= needed for run in runs)
    smallest = min(runs, key=lambda run: run["memory_mb"])
    assert smallest["within_budget"] and smallest["peak_mb_above_start"] <= needed <= smallest["memory_mb"]


def test_every_measured_budget_was_kept():
    runs, _ = _small_budget_runs()
    for run in runs:
        assert run["within_budget"] and 0 < run["peak_mb_above_start"] <= run["memory_mb"], run


def test_explain_reads_the_run_and_warns_when_the_size_differs_from_the_training_size(tmp_path, photo):
    """Without --model and --weights: the run's trained BagNet, its class names, and one warning line per image
    used at another size than the network was trained at."""
    torch.manual_seed(2)
    best = tmp_path / "run" / "results" / "models" / "bagnet9" / "seed3" / "best.pt"
    best.parent.mkdir(parents=True)
    names = ["beach", "kitchen", "road", "woods"]
    state = get_bagnet("bagnet9", num_classes=4).eval().state_dict()
    save_checkpoint(best, "bagnet9", names, 48, state)
    common = ["--run", str(tmp_path / "run"), "--classes", "2", "--device", "cpu", "--threads", "1"]
    result = run_cli("explain", str(photo), *common, "--out", str(tmp_path / "a"))
    assert result.returncode == 0, result.stderr
    assert f"explaining with the run's bagnet9: {best}" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {photo} is 120 x 80 px, not the training size: bagnet9 was trained at 48 x 48 px ({best})"
    ]
    assert set(np.load(tmp_path / "a" / "garden.npz")["classes"]) == set(names)
    resized = run_cli("explain", str(photo), *common, "--image-size", "48", "--out", str(tmp_path / "b"))
    assert resized.returncode == 0 and "warning:" not in resized.stderr
    other = run_cli("explain", str(photo), *common, "--image-size", "64", "--out", str(tmp_path / "c"))
    assert other.returncode == 0
    assert "warning: --image-size 64 differs from the training size: bagnet9 was trained at 48 x 48 px" in other.stderr
