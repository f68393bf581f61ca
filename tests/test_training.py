"""Training: kill -9 and resume gives the very same result, both attempts counted; micro-batches give the same
gradients."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from bagnet_repro.compute.accounting import read_record
from bagnet_repro.config.train_settings import TrainSettings
from bagnet_repro.data.inventory import build_inventory, write_records
from bagnet_repro.data.split import seeded_split
from bagnet_repro.errors import UserError
from bagnet_repro.models import build_model
from bagnet_repro.training.trainer import Trainer, accumulate_gradients
from helpers import PROJECT

# The modern recipe on the CPU in fp32: augmentation, CutMix/MixUp, label smoothing, SGD with warm-up and
# cosine decay, so the checkpoint must restore optimizer, scheduler and every RNG for an equal result.
OPTIONS = {
    "image_size": 32,
    "epochs": 4,
    "batch_size": 8,
    "precision": "fp32",
    "head": "report",
    "lr": 0.005,
    "lr_scale_batch": 0,
    "warmup_epochs": 1,
}


@pytest.fixture(scope="module")
def manifest(demo_data, tmp_path_factory):
    path = tmp_path_factory.mktemp("resume") / "manifest.tsv"
    write_records(seeded_split(build_inventory(demo_data), 0.2, test_per_class=2, seed=0), path, "split")
    return path


def train_command(manifest, out):
    return [
        sys.executable,
        "-m",
        "bagnet_repro",
        "train",
        "--manifest",
        str(manifest),
        "--model",
        "resnet50",
        "--best",
        str(out / "best.pt"),
        "--history",
        str(out / "history.csv"),
        "--checkpoint",
        str(out / "last.pt"),
        "--recipe",
        "modern",
        "--options",
        json.dumps(OPTIONS),
        "--seed",
        "7",
        "--device",
        "cpu",
        "--threads",
        "1",
    ]


def environment():
    return {**os.environ, "PYTHONPATH": str(PROJECT / "src"), "OMP_NUM_THREADS": "1"}


def finished_run(manifest, out):
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(train_command(manifest, out), env=environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (out / "last.pt").exists()  # a finished run deletes its resume checkpoint
    return result


def history_without_times(path):
    lines = path.read_text().splitlines()
    return [line.rsplit(",", 1)[0] for line in lines]  # "seconds" is the last column


@pytest.mark.slow
def test_kill_9_at_random_points_then_resume_equals_an_uninterrupted_run(manifest, tmp_path):
    finished_run(manifest, tmp_path / "straight")
    straight = torch.load(tmp_path / "straight" / "best.pt", weights_only=True)
    rng = random.Random(20261122)
    for trial in range(3):
        out = tmp_path / f"killed{trial}"
        out.mkdir()
        target_epoch = rng.randint(1, OPTIONS["epochs"] - 1)
        process = subprocess.Popen(
            train_command(manifest, out),
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for line in process.stdout:  # wait until epoch `target_epoch` is done, then kill inside the next
            if f"epoch {target_epoch}/{OPTIONS['epochs']}:" in line:
                break
        time.sleep(rng.uniform(0.0, 0.8))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, f"trial {trial}: the run ended before the kill"
        assert not (out / "best.pt").exists()
        had_checkpoint = (out / "last.pt").exists()  # a kill before the first save leaves none
        resumed = finished_run(manifest, out)
        assert ("resuming resnet50 after epoch" in resumed.stdout) == had_checkpoint
        again = torch.load(out / "best.pt", weights_only=True)
        assert (again["epoch"], again["val_acc"]) == (straight["epoch"], straight["val_acc"])
        for key, tensor in straight["state_dict"].items():
            assert torch.equal(again["state_dict"][key], tensor), f"trial {trial}: {key} differs"
        expected = history_without_times(tmp_path / "straight" / "history.csv")
        assert history_without_times(out / "history.csv") == expected
        # Both attempts are in the compute record; the killed one's epochs apart from the resumed one's.
        killed, succeeded = read_record(out / "best.compute.json")["attempts"]
        resumed_after = int(re.search(r"after epoch (\d+)", resumed.stdout).group(1)) if had_checkpoint else 0
        assert (killed["status"], succeeded["status"]) == ("killed", "succeeded")
        assert succeeded["epochs"] == OPTIONS["epochs"] - resumed_after
        assert resumed_after <= killed["epochs"] <= resumed_after + 1  # an epoch done but not yet saved counts
        assert killed["epochs"] >= target_epoch and killed["wall_s"] > 0
    (straight_attempt,) = read_record(tmp_path / "straight" / "best.compute.json")["attempts"]
    assert (straight_attempt["status"], straight_attempt["epochs"]) == ("succeeded", OPTIONS["epochs"])


def test_four_micro_batches_give_the_gradients_of_one_batch():
    torch.manual_seed(0)
    model = build_model("bagnet9", 15, head="linear").eval()  # BN on running statistics: samples independent
    inputs, targets = torch.randn(8, 3, 40, 40), torch.randint(0, 15, (8,))
    loss_fn = torch.nn.CrossEntropyLoss()
    gradients = []
    for chunks in (1, 4):
        model.zero_grad()
        loss, logits = accumulate_gradients(model, inputs, targets, loss_fn, chunks)
        gradients.append({name: p.grad.clone() for name, p in model.named_parameters()})
        assert logits.shape == (8, 15)
    for name, gradient in gradients[0].items():
        torch.testing.assert_close(gradients[1][name], gradient, rtol=1e-4, atol=1e-6, msg=name)


def test_non_finite_loss_names_epoch_and_step():
    # The loss is read once per epoch (no per-step synchronisation), yet the error names the first bad step.
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 15))
    settings = TrainSettings(model="toy", image_size=32, batch_size=2, device="cpu")
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), settings, torch.device("cpu"), 15)
    images, labels = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8), torch.tensor([0, 1, 2, 3, 4, 5])
    original_step = trainer.step

    def step_poisoned_at_2(inputs, targets, epoch, step):
        if step == 2:
            torch.nn.init.constant_(model[1].weight, float("nan"))
        return original_step(inputs, targets, epoch, step)

    trainer.step = step_poisoned_at_2
    with pytest.raises(UserError, match="non-finite loss at epoch 3, step 2;"):
        trainer.epoch(images, labels, epoch=3)


def test_epoch_tally_counts_on_the_device_and_reads_once():
    from bagnet_repro.training.tally import EpochTally

    tally = EpochTally(torch.device("cpu"))
    tally.add(1, torch.tensor(0.5), torch.tensor([[2.0, 1.0], [0.0, 1.0]]), torch.tensor([0, 0]))
    tally.add(2, torch.tensor(1.5), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.9, 0.1]]))  # soft target
    assert tally.bad_step() == 0
    assert tally.totals() == (0.5 * 2 + 1.5 * 1, 2, 3)
    tally.add(3, torch.tensor(float("inf")), torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    tally.add(4, torch.tensor(float("nan")), torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    assert tally.bad_step() == 3


def test_scratch_recipe_resets_every_batchnorm_momentum(manifest, tmp_path):
    """The original BagNet stem keeps 0.001; bn_momentum gives every layer the same (the scratch recipe's)."""
    from bagnet_repro.config.recipes import RECIPES
    from bagnet_repro.training.loop import set_batchnorm_momentum

    model = build_model("bagnet33", 15, head="linear")
    momenta = {m.momentum for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert momenta == {0.1, 0.001}
    set_batchnorm_momentum(model, RECIPES["scratch"]["bn_momentum"])
    assert {m.momentum for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {0.1}


def test_batched_crop_flip_is_a_crop_of_the_image_and_depends_on_seed_epoch_step():
    from bagnet_repro.data.batch_augment import crop_flip, crop_flip_matrices, step_generator

    images = torch.rand(64, 3, 40, 40)
    identity = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(64, 2, 3)
    torch.testing.assert_close(crop_flip(images, identity), images, atol=1e-5, rtol=0)
    mirror = identity * torch.tensor([[-1.0, 1, 1], [1, 1, 1]])
    torch.testing.assert_close(crop_flip(images, mirror), images.flip(-1), atol=1e-5, rtol=0)
    matrices = crop_flip_matrices(64, step_generator(7, 3, 2))
    assert torch.equal(matrices, crop_flip_matrices(64, step_generator(7, 3, 2)))
    assert not torch.equal(matrices, crop_flip_matrices(64, step_generator(7, 3, 3)))
    width, height = matrices[:, 0, 0].abs(), matrices[:, 1, 1]
    area = width * height
    assert area.min() >= 0.25 - 1e-6 and width.max() <= 1 and height.max() <= 1
    assert (matrices[:, 0, 2].abs() <= 1 - width + 1e-6).all() and (matrices[:, 1, 2].abs() <= 1 - height + 1e-6).all()
    assert 10 < (matrices[:, 0, 0] < 0).sum() < 54  # about half mirrored
    # A crop of a constant image is that constant; a crop of a horizontal ramp keeps its direction per mirror.
    ramp = torch.linspace(0, 1, 40).expand(64, 3, 40, 40).contiguous()
    cropped = crop_flip(ramp, matrices)
    increasing = cropped[:, 0, 20, -1] > cropped[:, 0, 20, 0]
    assert torch.equal(increasing, matrices[:, 0, 0] > 0)


def test_unknown_training_option_is_one_line(manifest, tmp_path):
    command = train_command(manifest, tmp_path)
    command[command.index("--options") + 1] = json.dumps({"learning_rate": 1})
    result = subprocess.run(command, env=environment(), capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "error: unknown training option(s): learning_rate"
    assert list(tmp_path.iterdir()) == []


def test_best_epoch_and_early_stop_bookkeeping():
    from torch import nn

    from bagnet_repro.config.train_settings import TrainSettings
    from bagnet_repro.training.state import TrainingState

    settings = TrainSettings(model="bagnet9", select="val_loss", patience=2, min_delta=0.1)
    model = nn.Linear(2, 2)
    state = TrainingState(model, optimizer=None, scheduler=None)
    flags = []
    for epoch, val_loss in enumerate([1.0, 0.5, 0.45, 0.3, 0.35, 0.31], start=1):
        with torch.no_grad():
            model.weight.fill_(epoch)
        flags.append((state.select(settings, epoch, {"val_loss": val_loss, "val_acc": 0.0}), state.stopped_early))
    # 0.45 is within min_delta of 0.5; 0.3 improves; then two epochs without improvement stop the run.
    assert flags == [(True, False), (True, False), (False, False), (True, False), (False, False), (False, True)]
    assert state.best.epoch == 4 and state.best.val_loss == 0.3
    assert torch.equal(state.best.weights["weight"], torch.full((2, 2), 4.0))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_scratch_recipe_on_cuda_stages_images_and_trains_in_bf16(manifest, tmp_path):
    """On CUDA: the split lives on the GPU, steps run under bf16 autocast, and the run is resumable as on the
    CPU (same history after a kill between epochs is covered on the CPU; here it must simply train)."""
    from bagnet_repro.config.recipes import recipe_values
    from bagnet_repro.config.train_settings import TrainSettings
    from bagnet_repro.training.finetune import train
    from bagnet_repro.training.staging import stage_images

    values = recipe_values(
        "scratch",
        {"image_size": 32, "epochs": 2, "batch_size": 16, "warmup_epochs": 0, "head": "linear", "device": "cuda"},
    )
    settings = TrainSettings(model="bagnet9", seed=0, **values)
    images = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
    assert stage_images(images, torch.device("cuda")).is_cuda
    result = train(
        str(manifest), settings, str(tmp_path / "best.pt"), str(tmp_path / "history.csv"), str(tmp_path / "last.pt")
    )
    assert result["epochs_run"] == 2 and (tmp_path / "best.pt").exists() and not (tmp_path / "last.pt").exists()
