"""``bagnet-repro explain``: heatmaps of any image at its own size, equal to ``patch_logits``."""

import numpy as np
import pytest
import torch
from PIL import Image

from bagnet_repro.data.loading import load_image, normalize
from bagnet_repro.heatmaps import patch_logits
from bagnet_repro.models import get_bagnet
from bagnet_repro.models.trained import save_trained
from helpers import randomize_batchnorm, run_cli


@pytest.fixture()
def photo(tmp_path):
    """A 300 x 200 (width x height) image, not square and not 224."""
    rng = np.random.default_rng(0)
    path = tmp_path / "garden.png"
    Image.fromarray(rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)).save(path)
    return path


def test_explain_writes_the_overlay_and_arrays_equal_to_patch_logits(tmp_path, photo):
    torch.manual_seed(0)
    model = randomize_batchnorm(get_bagnet("bagnet9", num_classes=10)).eval()
    weights = tmp_path / "bagnet9_state.pt"
    torch.save(model.state_dict(), weights)
    out = tmp_path / "explained"
    result = run_cli("explain", str(photo), "--model", "bagnet9", "--weights", str(weights), "--classes", "3",
                     "--out", str(out), "--device", "cpu", "--threads", "2")
    assert result.returncode == 0, result.stderr
    assert (out / "garden.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "garden.png").read_bytes().startswith(b"\x89PNG")
    assert "explain" in result.stderr  # the progress bar
    saved = np.load(out / "garden.npz")
    image = load_image(str(photo), None)
    assert saved["image"].shape == (3, 200, 300) and np.array_equal(saved["image"], image.numpy())
    x = normalize(image[None])
    expected = patch_logits(model, x, progress=False)[0]
    with torch.no_grad():
        logits = model(x)[0]
    top = torch.argsort(logits, descending=True)[:3]
    assert saved["top"].tolist() == top.tolist()
    assert saved["heatmaps"].shape == (3, 200, 300)
    np.testing.assert_allclose(saved["heatmaps"], expected[top].numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(saved["logits"], logits.numpy(), rtol=0, atol=1e-5)
    # One pixel checked against its own 9 x 9 patch classified alone (zero padding at the border).
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    with torch.no_grad():
        alone = model(padded[:, :, 150:159, 20:29])[0]
    np.testing.assert_allclose(saved["heatmaps"][:, 150, 20], alone[top].numpy(), rtol=0, atol=1e-4)


def test_explain_a_pipeline_checkpoint_uses_its_class_names(tmp_path, photo):
    torch.manual_seed(1)
    model = get_bagnet("bagnet17", num_classes=4).eval()
    best = tmp_path / "best.pt"
    names = ["Coast", "Forest", "Highway", "Office"]
    save_trained(best, model="bagnet17", head="linear", classes=names, image_size=48, epoch=1, val_acc=0.5,
                 val_loss=1.0, settings={}, state_dict=model.state_dict())
    out = tmp_path / "out"
    result = run_cli("explain", str(photo), str(photo), "--model", "bagnet17", "--weights", str(best),
                     "--classes", "9", "--image-size", "48", "--out", str(out), "--device", "cpu", "--threads", "1")
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
    upsampled = run_cli("explain", str(photo), "--model", "bagnet9_v2", "--weights", str(state),
                        "--method", "upsampled", *common)
    assert upsampled.returncode == 0, upsampled.stderr
    missing = run_cli("explain", str(tmp_path / "nope.jpg"), "--model", "bagnet9", "--weights", str(state), *common)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == f"error: image not found: {tmp_path / 'nope.jpg'}"
    random = run_cli("explain", str(photo), "--model", "bagnet9", "--weights", "none", *common)
    assert random.returncode == 1 and "explain needs trained weights" in random.stderr
