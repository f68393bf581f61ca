"""Mundt et al.'s feature-amount study: the family (counts, order, totals), the networks (parameter counts
from the widths), data in torchvision's on-disk format, the out-of-memory split, and the workflow (a kill in
the middle of the study, then a rerun that does only what is missing; the SLURM plan)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from planned import dry_run_jobs

from bagnet_repro.config.train_settings import TrainSettings
from bagnet_repro.feature_amounts import build_feature_amount_model, uniform_features, variants
from bagnet_repro.feature_amounts.family import SCALES, SHAPES, layer_shares, select_ids, variant
from bagnet_repro.feature_amounts.model import block_sizes
from bagnet_repro.training.trainer import Trainer
from helpers import PROJECT, run_cli, run_snakemake


@pytest.mark.parametrize(
    "depth,count,layers,total", [(16, 193, 15, 5248), (10, 153, 9, 2688), (13, 194, 12, 3968), (19, 139, 18, 6528)]
)
def test_family_sizes_layer_counts_and_totals(depth, count, layers, total):
    family = variants(depth)
    assert len(family) == count
    assert sum(uniform_features(depth)) == total and len(uniform_features(depth)) == layers
    for member in family:
        assert len(member.features) == layers and min(member.features) >= 2
        shares = layer_shares(layers, member.location, member.scale, member.shape)
        assert shares.sum() > 0.95
        # features = ceil(share x T) with more than 95% of the density on the layers: the variant keeps
        # (almost) the total T, never more than T plus one per layer from the rounding up
        assert 0.95 * total < sum(member.features) <= total + layers
        assert list(member.features) == [math.ceil(s * total) for s in shares]


@pytest.mark.parametrize("depth", [11, 12])
def test_a_depth_the_family_lacks_is_refused_at_start_up_in_one_line(tmp_path, depth):
    """Depth 11 once built the depth-10 network and filed its results as depth 11."""
    config = tmp_path / "depth.yaml"
    config.write_text(json.dumps({"feature_amounts": {"dataset": "cifar10", "depth": depth}}))
    expected = (
        f"error: config error at 'feature_amounts.depth': {depth} is not a depth of the VGG family "
        "(7 + 3L, L >= 1); choose one of 10, 13, 16, 19, 22, ..."
    )
    planned = run_snakemake(tmp_path, "-n", "report/tables/feature_amounts.tsv", "--configfile", str(config))
    checked = run_cli("check-config", str(config))
    for result in (planned, checked):
        assert result.returncode != 0
        lines = [line for line in (result.stdout + result.stderr).splitlines() if "feature_amounts.depth" in line]
        assert len(lines) == 1 and lines[0].endswith(expected.removeprefix("error: ")), result.stderr[-2000:]
    assert checked.stderr.strip() == expected
    assert not (tmp_path / "results").exists()
    with pytest.raises(ValueError, match=f"{depth} is not a depth of the VGG family"):
        variants(depth)


# The plan takes the configured depth's family: the smallest depth and one past the reference's 19 show that (each
# plan is some 200 jobs, seconds to build); the family of each depth is counted in-process above.
@pytest.mark.parametrize("depth", [10, 22])
def test_every_depth_of_the_family_plans_its_variants(tmp_path, depth):
    config = tmp_path / "depth.yaml"
    config.write_text(json.dumps({"feature_amounts": {"dataset": "cifar10", "depth": depth, "uniform": True}}))
    result = run_snakemake(tmp_path, "-n", "report/tables/feature_amounts.tsv", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    plan = result.stdout + result.stderr
    assert plan.count("rule feature_amount_run:") == len(variants(depth)) + 1
    assert f"results/feature_amounts/cifar10_depth{depth}/uniform/seed0/metrics.json" in plan


def test_model_ids_follow_the_reference_loop_order():
    family = variants(16)
    assert [m.model_id for m in family] == list(range(len(family)))
    order = [(m.location, list(SCALES).index(m.scale), list(SHAPES).index(m.shape)) for m in family]
    assert order == sorted(order)  # location, then scale, then shape, as the reference's three loops
    assert all(m.scale > 0 for m in family)
    assert variant("uniform").features == uniform_features(16)
    assert variant(5) == family[5]
    assert select_ids(16, {"every": 50}) == [0, 50, 100, 150]
    with pytest.raises(ValueError, match="no variant 193 at depth 16"):
        select_ids(16, [193])


def independent_parameter_count(features, num_classes, image_size=32):
    """Weights of 3x3 convs without bias and BN (2 per channel), FC without bias plus BN1d, final linear."""
    conv, fc = features[:-2], features[-2:]
    count, fan_in = 0, 3
    for width in conv:
        count += 9 * fan_in * width + 2 * width
        fan_in = width
    flat = fan_in * (image_size // 32) ** 2
    count += flat * fc[0] + 2 * fc[0] + fc[0] * fc[1] + 2 * fc[1]
    return count + fc[1] * num_classes + num_classes


def test_every_depth16_variant_has_the_parameters_its_widths_give(monkeypatch):
    with monkeypatch.context() as patched, torch.device("meta"):
        # The counts do not depend on the initial values: initialisers left out, 194 networks take seconds.
        for name in ("kaiming_normal_", "kaiming_uniform_", "uniform_", "zeros_", "ones_"):
            patched.setattr(torch.nn.init, name, lambda tensor, *args, **kwargs: tensor)
        for member in variants(16) + [variant("uniform")]:
            model = build_feature_amount_model(member.features, 10, 32)
            counted = sum(p.numel() for p in model.parameters())
            assert counted == independent_parameter_count(member.features, 10), member.model_id
    model = build_feature_amount_model(uniform_features(16), 10, 32)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 13 and all(c.bias is None and c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) == 5
    assert block_sizes(13) == [2, 2, 3, 3, 3]
    assert all(m.eps == 1e-4 for m in model.modules() if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)))
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def cuda_out_of_memory(size):
    return torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {size} images")


def cpu_out_of_memory(size):  # the CPU allocator's own words: a plain RuntimeError
    return RuntimeError(
        f"[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
        f"you tried to allocate {size * 2**30} bytes. Error code 12 (Cannot allocate memory)"
    )


class OutOfMemoryAbove(torch.nn.Module):
    """A device with room for ``limit`` images: a larger forward raises ``error(size)``, as CUDA or the CPU do."""

    def __init__(self, model, limit, error=cuda_out_of_memory):
        super().__init__()
        self.model, self.limit, self.error, self.sizes = model, limit, error, []

    def forward(self, x):
        self.sizes.append(len(x))
        if len(x) > self.limit:
            raise self.error(len(x))
        return self.model(x)


def test_another_runtime_error_is_not_taken_for_a_full_memory():
    model = build_feature_amount_model(variant(60).features, 10).eval()
    settings = TrainSettings(model="feature_amounts", image_size=32, batch_size=8, device="cpu", lr=0.01)
    broken = OutOfMemoryAbove(
        model, limit=2, error=lambda size: RuntimeError("mat1 and mat2 shapes cannot be multiplied")
    )
    trainer = Trainer(broken, torch.optim.SGD(model.parameters(), lr=0.0), settings, torch.device("cpu"), 10)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        trainer.step(torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,)), epoch=1, step=1)
    assert broken.sizes == [8] and trainer.chunks == 1  # a real bug is raised as it is, not split


@pytest.mark.parametrize("error", [cuda_out_of_memory, cpu_out_of_memory], ids=["cuda", "cpu"])
def test_a_batch_over_the_memory_budget_is_split_with_the_same_gradients(capsys, error):
    torch.manual_seed(0)
    # A narrow depth-10 network (the split does not depend on the widths; a family member's forward and backward
    # passes took a minute on 2 busy cores): 7 convs in the family's 2, 2, 1, 1, 1 blocks, then two FC layers.
    features = (8, 8, 16, 16, 16, 32, 32, 32, 32)
    model = build_feature_amount_model(features, 10).eval()  # BN on running statistics, no dropout
    inputs, targets = torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))
    settings = TrainSettings(model="feature_amounts", image_size=32, batch_size=16, device="cpu", lr=0.01)

    def gradients(wrapped):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the weights stay for the comparison
        trainer = Trainer(wrapped, optimizer, settings, torch.device("cpu"), 10)
        loss, _ = trainer.step(inputs, targets, epoch=1, step=1)
        return float(loss), trainer.chunks, {n: p.grad.clone() for n, p in model.named_parameters()}

    full_loss, full_chunks, full = gradients(model)
    budget = OutOfMemoryAbove(model, limit=5, error=error)
    split_loss, chunks, split = gradients(budget)
    assert full_chunks == 1 and chunks == 4  # 16 -> 2 x 8 (too big) -> 4 x 4 (fits)
    assert budget.sizes == [16, 8, 4, 4, 4, 4]
    assert "is now 4 micro-batches of 4" in capsys.readouterr().out
    assert split_loss == pytest.approx(full_loss, rel=1e-5)
    for name, gradient in full.items():
        torch.testing.assert_close(split[name], gradient, rtol=1e-4, atol=1e-6, msg=name)


def write_idx(path, array):
    """An MNIST-format idx file (gzip not used: torchvision reads the raw files)."""
    array = np.asarray(array, dtype=np.uint8)
    kind = {1: 0x0801, 3: 0x0803}[array.ndim]
    header = struct.pack(">I", kind) + b"".join(struct.pack(">I", n) for n in array.shape)
    path.write_bytes(header + array.tobytes())


def make_mnist_like(root, name, train=64, test=32):
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    prefix = {"MNIST": "", "FashionMNIST": "", "KMNIST": ""}[name]
    for split, count in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, count)
        images = (rng.random((count, 28, 28)) * 255 * (labels[:, None, None] + 1) / 10).astype(np.uint8)
        write_idx(raw / f"{prefix}{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}{split}-labels-idx1-ubyte", labels)


def test_mnist_format_data_trains_a_variant_and_records_its_files(tmp_path):
    from bagnet_repro.feature_amounts.data import fetch_dataset, load_study_data

    root = tmp_path / "cache"
    make_mnist_like(root, "MNIST")
    record = fetch_dataset("mnist", root, tmp_path / "mnist.json")  # files present: nothing is fetched
    assert sorted(record["files"]) == sorted(f"MNIST/raw/{n}" for n in os.listdir(root / "MNIST" / "raw"))
    train, val, classes = load_study_data("mnist", str(tmp_path / "mnist.json"), 32)
    assert train.images.shape == (64, 3, 32, 32) and val.images.shape == (32, 3, 32, 32) and classes == 10
    assert torch.equal(train.images[:, 0], train.images[:, 1])  # grey repeated to three channels
    out = tmp_path / "run"
    result = run_cli(
        "feature-amount-run",
        "--dataset",
        "mnist",
        "--data",
        str(tmp_path / "mnist.json"),
        "--depth",
        "16",
        "--variant",
        "120",
        "--metrics",
        str(out / "metrics.json"),
        "--history",
        str(out / "history.csv"),
        "--checkpoint",
        str(out / "last.pt"),
        "--recipe",
        "feature_amounts",
        "--options",
        json.dumps({"epochs": 2, "batch_size": 16, "restart_epochs": 1, "abandon_after": 1}),
        "--seed",
        "0",
        "--device",
        "cpu",
        "--threads",
        "1",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_id"] == 120 and metrics["features"] == list(variant(120).features)
    assert metrics["parameters"] == independent_parameter_count(variant(120).features, 10)
    # Random pixels: train accuracy stays below twice chance after the first cycle, so it is abandoned.
    assert metrics["abandoned"] == (metrics["last_train_acc"] < 0.2)
    assert metrics["epochs_run"] == (1 if metrics["abandoned"] else 2)
    assert metrics["settings"]["augment"] == "none"  # the authors trained the MNIST family unaugmented
    assert not (out / "last.pt").exists()
    missing = run_cli(
        "feature-amount-data",
        "--dataset",
        "kmnist",
        "--root",
        str(tmp_path / "empty"),
        "--out",
        str(tmp_path / "k.json"),
    )
    assert missing.returncode == 1 and "kmnist in" in missing.stderr.strip().splitlines()[-1]
    unknown = run_cli(
        "feature-amount-run",
        "--dataset",
        "mnist",
        "--data",
        str(tmp_path / "mnist.json"),
        "--depth",
        "16",
        "--variant",
        "193",
        "--metrics",
        str(out / "m.json"),
        "--history",
        str(out / "h.csv"),
        "--checkpoint",
        str(out / "c.pt"),
        "--recipe",
        "feature_amounts",
        "--seed",
        "0",
        "--device",
        "cpu",
        "--threads",
        "1",
    )
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines()[-1] == "error: no variant '193' at depth 16: ids are 0..192 or 'uniform'"


def test_pad_crop_flip_takes_a_window_of_the_zero_padded_image_mirrored_half_the_time():
    from bagnet_repro.data.batch_augment import pad_crop_flip, step_generator

    images = torch.randint(1, 256, (400, 3, 32, 32), dtype=torch.uint8)  # no zero pixel of its own
    out = pad_crop_flip(images, step_generator(0, 1, 1))
    assert out.dtype == torch.uint8 and out.shape == images.shape
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    shifts, mirrored = set(), 0
    for image, window in zip(padded, out, strict=True):
        found = [
            (y, x, flip)
            for y in range(9)
            for x in range(9)
            for flip in (False, True)
            if torch.equal(window, (lambda w: w.flip(-1) if flip else w)(image[:, y : y + 32, x : x + 32]))
        ]
        assert found, "every output is a 32-px window of the padded image, or its mirror"
        shifts.add(found[0][:2])
        mirrored += found[0][2]
    assert len(shifts) == 81  # every offset 0..8 in both directions occurs in 400 draws
    assert 140 < mirrored < 260
    assert torch.equal(out, pad_crop_flip(images, step_generator(0, 1, 1)))
    assert not torch.equal(out, pad_crop_flip(images, step_generator(0, 1, 2)))


def test_the_study_recipe_augments_cifar_as_the_authors_and_the_trainer_runs_it():
    from bagnet_repro.config.recipes import RECIPES
    from bagnet_repro.feature_amounts.data import STUDY_AUGMENTATION, TORCHVISION_SETS, study_augmentation

    assert RECIPES["feature_amounts"]["augment"] == "by_dataset"
    resolved = {name: study_augmentation(name, "by_dataset") for name in [*TORCHVISION_SETS, "scene15"]}
    assert (
        resolved
        == {
            "cifar10": "pad_crop_flip",
            "cifar100": "pad_crop_flip",
            "mnist": "none",
            "fashionmnist": "none",
            "kmnist": "none",
            "scene15": "none",
        }
        == STUDY_AUGMENTATION
    )
    assert study_augmentation("cifar10", "none") == "none"  # an explicit option wins
    settings = TrainSettings(
        model="feature_amounts", image_size=32, normalization="none", augment=resolved["cifar10"], device="cpu"
    )
    trainer = Trainer(torch.nn.Identity(), None, settings, torch.device("cpu"), 10, statistics=([0.0] * 3, [1.0] * 3))
    images = torch.randint(1, 256, (64, 3, 32, 32), dtype=torch.uint8)
    inputs, _ = trainer._inputs(images, torch.zeros(64, dtype=torch.long), epoch=1, step=1)
    assert (inputs == 0).any() and not torch.equal(inputs, images.float() / 255)  # black padding came in
    plain = Trainer(
        torch.nn.Identity(),
        None,
        dataclasses.replace(settings, augment="none"),
        torch.device("cpu"),
        10,
        statistics=([0.0] * 3, [1.0] * 3),
    )
    unchanged, _ = plain._inputs(images, torch.zeros(64, dtype=torch.long), epoch=1, step=1)
    torch.testing.assert_close(unchanged, images.float() / 255)


def test_data_normalization_uses_the_training_sets_channel_statistics():
    from bagnet_repro.data.loading import ImageSet, channel_statistics, normalize
    from bagnet_repro.training.loop import input_statistics

    images = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8)
    images[:, 1] //= 4  # a darker second channel
    mean, std = channel_statistics(images)
    scaled = images.double() / 255
    torch.testing.assert_close(torch.tensor(mean, dtype=torch.float64), scaled.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(torch.tensor(std, dtype=torch.float64), scaled.std(dim=(0, 2, 3), correction=0))
    data = ImageSet(images, torch.zeros(50, dtype=torch.long), [], [])
    settings = TrainSettings(model="feature_amounts", image_size=32, normalization="data")
    normalized = normalize(images, input_statistics(settings, data))
    torch.testing.assert_close(normalized.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    plain = TrainSettings(model="feature_amounts", image_size=32, normalization="none")
    torch.testing.assert_close(normalize(images, input_statistics(plain, data)), images.float() / 255)


STUDY = {
    "data": {
        "source": "demo",
        "urls": [],
        "demo": {"train_per_class": 4, "test_per_class": 3, "width": 32, "height": 32, "seed": 0},
    },
    "split": {"seed": 1, "val_fraction": 0.5, "test_per_class": 2},
    "models": ["bagnet9"],
    "weights": {"models": {"bagnet9": "none"}},
    "compute": {"device": "cpu", "threads": 1},
    "feature_amounts": {
        "dataset": "scene15",
        "variants": [160, 176, 192],
        "uniform": False,
        "options": {"epochs": 1, "batch_size": 16},
    },
}


def test_killed_study_reruns_only_the_missing_variants(tmp_path):
    config = tmp_path / "study.yaml"
    config.write_text(json.dumps(STUDY))
    work = tmp_path / "work"
    runs = work / "results/feature_amounts/scene15_depth16"
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(PROJECT / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        "1",
        "report/tables/feature_amounts.tsv",
        "--configfile",
        str(config),
    ]
    process = subprocess.Popen(
        command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    # One job at a time: when the second variant's log appears, Snakemake has recorded the first as finished.
    logs = work / "logs/feature_amounts/scene15_depth16"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list(logs.glob("*.log"))) < 2:
        time.sleep(0.05)
    done = {p.parent.parent.name: p.stat().st_mtime_ns for p in runs.glob("*/seed0/metrics.json")}
    os.killpg(process.pid, signal.SIGKILL)  # Snakemake and its running job, as a power cut would
    process.wait()
    assert len(done) == 1
    unlock = run_snakemake(work, "--unlock", "--configfile", str(config))
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = run_snakemake(work, "--cores", "1", "report/tables/feature_amounts.tsv", "--configfile", str(config))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stderr.count("rule feature_amount_run:") == 3 - len(done)
    for name, mtime in done.items():
        assert (runs / name / "seed0" / "metrics.json").stat().st_mtime_ns == mtime, name
    table = (work / "report/tables/feature_amounts.tsv").read_text().splitlines()
    assert [line.split("\t")[2] for line in table[1:]] == ["160", "176", "192"]


def test_slurm_plans_one_gpu_job_per_variant_and_seed(tmp_path):
    config = tmp_path / "cifar.yaml"
    config.write_text(
        json.dumps(
            {
                "feature_amounts": {"dataset": "cifar10", "depth": 16, "uniform": False, "seeds": [0, 1]},
                "compute": {"device": "cuda", "threads": 4},
            }
        )
    )
    jobs = dry_run_jobs(
        tmp_path,
        "--profile",
        str(PROJECT / "profiles" / "slurm"),
        "report/figures/feature_amounts.html",
        "--configfile",
        str(config),
    )
    runs = [job for job in jobs if job["rule"] == "feature_amount_run"]
    assert len(runs) == 193 * 2
    for job in runs:
        assert job["resources"]["gpu"] == "1" and job["resources"]["runtime"] == "720"
    assert len([job for job in jobs if job["rule"] == "feature_amount_data"]) == 1


def authors_sgdr_rates(epochs, samples, batch, lr, first_cycle, min_lr):
    """The feature-amount authors' schedule as their training loop runs it: per epoch an epoch counter within
    the cycle; per batch b (from 1) the rate at counter + b / floor(samples / batch), after which the cycle
    is renewed (length doubled, counter 0) if the counter has reached the cycle's length."""
    rates, counter, cycle = [], 0, first_cycle
    for _ in range(epochs):
        for b in range(1, math.ceil(samples / batch) + 1):
            position = counter + b / (samples // batch)
            rates.append(min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * position / cycle)))
            if counter > 0 and counter % cycle == 0:
                cycle, counter = 2 * cycle, 0
        counter += 1
    return rates


def scheduled_rates(settings, samples):
    from bagnet_repro.training.optimization import build_optimizer, build_scheduler

    steps = math.ceil(samples / settings.batch_size)
    parameter = torch.nn.Linear(1, 1, bias=False)
    optimizer = build_optimizer(parameter, settings)
    scheduler = build_scheduler(optimizer, settings, steps, samples)
    rates = []
    for _ in range(settings.epochs * steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_sgdr_authors_is_their_schedule_and_sgdr_restarts_on_the_epoch_boundary():
    from bagnet_repro.config.recipes import RECIPES

    recipe = RECIPES["feature_amounts"]
    assert recipe["scheduler"] == "sgdr_authors"
    settings = TrainSettings(model="feature_amounts", **{**recipe, "batch_size": 128})
    samples, steps = 1000, 8  # 7 full batches and one of 104: their floor(1000 / 128) = 7
    authors = scheduled_rates(settings, samples)
    expected = authors_sgdr_rates(150, samples, 128, 0.01, 10, 1e-5)
    assert len(authors) == len(expected) == 150 * steps
    for step, (ours, theirs) in enumerate(zip(authors, expected, strict=True)):
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15), step
    corrected = scheduled_rates(dataclasses.replace(settings, scheduler="sgdr"), samples)
    assert corrected[0] == 0.01 and authors[0] < 0.01
    for epoch in (10, 30, 70):  # epochs 11, 31 and 71 begin new cycles
        first = epoch * steps
        # Theirs: the first batch still gets the end of the old cycle, the second the top of the new one.
        assert authors[first] < 1e-4 and authors[first + 1] > 0.0099
        # Corrected: the cycle restarts at the first batch of the epoch.
        assert corrected[first] == pytest.approx(0.01) and corrected[first - 1] < 1e-4


def test_a_variants_metrics_without_a_column_or_with_a_negative_count_is_one_line(tmp_path):
    import json

    from bagnet_repro.errors import UserError
    from bagnet_repro.feature_amounts.study import TABLE_COLUMNS, write_table

    good = {column: 1 for column in TABLE_COLUMNS}
    for broken, field in ((dict(good, best_val_acc=-0.5), "best_val_acc"), ({**good, "seed": "x"}, "seed")):
        path = tmp_path / "metrics.json"
        path.write_text(json.dumps(broken))
        with pytest.raises(UserError) as error:
            write_table([str(path)], str(tmp_path / "table.tsv"))
        assert f"{path} is not a valid variant's metrics: field '{field}'" in str(error.value)
    missing = {k: v for k, v in good.items() if k != "skew"}
    path.write_text(json.dumps(missing))
    with pytest.raises(UserError, match="field 'skew' is missing"):
        write_table([str(path)], str(tmp_path / "table.tsv"))
    assert not (tmp_path / "table.tsv").exists()
