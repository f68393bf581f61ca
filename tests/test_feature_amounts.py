"""Seed 001's feature-amount study: the family (counts, order, totals), the networks (parameter counts
from the widths), data in torchvision's on-disk format, the out-of-memory split, and the workflow (a kill in
the middle of the study, then a rerun that does only what is missing; the SLURM plan)."""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from bagnet_repro.feature_amounts import build_feature_amount_model, uniform_features, variants
from bagnet_repro.feature_amounts.family import SCALES, SHAPES, layer_shares, select_ids, variant
from bagnet_repro.feature_amounts.model import block_sizes
from bagnet_repro.training.finetune import TrainSettings, _Trainer
from conftest import PROJECT, run_cli, run_snakemake


@pytest.mark.parametrize("depth,count,layers,total", [(16, 193, 15, 5248), (11, 153, 9, 2688), (19, 139, 18, 6528)])
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


def test_every_depth16_variant_has_the_parameters_its_widths_give():
    with torch.device("meta"):
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
    return RuntimeError(f"[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                        f"you tried to allocate {size * 2**30} bytes. Error code 12 (Cannot allocate memory)")


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
    broken = OutOfMemoryAbove(model, limit=2, error=lambda size: RuntimeError("mat1 and mat2 shapes cannot be "
                                                                               "multiplied"))
    trainer = _Trainer(broken, torch.optim.SGD(model.parameters(), lr=0.0), settings, torch.device("cpu"), 10)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        trainer.step(torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,)), epoch=1, step=1)
    assert broken.sizes == [8] and trainer.chunks == 1  # a real bug is raised as it is, not split


@pytest.mark.parametrize("error", [cuda_out_of_memory, cpu_out_of_memory], ids=["cuda", "cpu"])
def test_a_batch_over_the_memory_budget_is_split_with_the_same_gradients(capsys, error):
    torch.manual_seed(0)
    features = variant(60).features
    model = build_feature_amount_model(features, 10).eval()  # BN on running statistics, no dropout
    inputs, targets = torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))
    settings = TrainSettings(model="feature_amounts", image_size=32, batch_size=16, device="cpu", lr=0.01)

    def gradients(wrapped):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the weights stay for the comparison
        trainer = _Trainer(wrapped, optimizer, settings, torch.device("cpu"), 10)
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
    result = run_cli("feature-amount-run", "--dataset", "mnist", "--data", str(tmp_path / "mnist.json"),
                     "--depth", "16", "--variant", "120", "--metrics", str(out / "metrics.json"),
                     "--history", str(out / "history.csv"), "--checkpoint", str(out / "last.pt"),
                     "--recipe", "feature_amounts",
                     "--options", json.dumps({"epochs": 2, "batch_size": 16, "restart_epochs": 1, "abandon_after": 1}),
                     "--seed", "0", "--device", "cpu", "--threads", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_id"] == 120 and metrics["features"] == list(variant(120).features)
    assert metrics["parameters"] == independent_parameter_count(variant(120).features, 10)
    # Random pixels: train accuracy stays below twice chance after the first cycle, so it is abandoned.
    assert metrics["abandoned"] == (metrics["last_train_acc"] < 0.2)
    assert metrics["epochs_run"] == (1 if metrics["abandoned"] else 2)
    assert not (out / "last.pt").exists()
    missing = run_cli("feature-amount-data", "--dataset", "kmnist", "--root", str(tmp_path / "empty"),
                      "--out", str(tmp_path / "k.json"))
    assert missing.returncode == 1 and "kmnist in" in missing.stderr.strip().splitlines()[-1]
    unknown = run_cli("feature-amount-run", "--dataset", "mnist", "--data", str(tmp_path / "mnist.json"),
                      "--depth", "16", "--variant", "193", "--metrics", str(out / "m.json"), "--history",
                      str(out / "h.csv"), "--checkpoint", str(out / "c.pt"), "--recipe", "feature_amounts",
                      "--seed", "0", "--device", "cpu", "--threads", "1")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines()[-1] == "error: no variant '193' at depth 16: ids are 0..192 or 'uniform'"


def test_data_normalization_uses_the_training_sets_channel_statistics():
    from bagnet_repro.data.loading import channel_statistics, normalize
    from bagnet_repro.data.loading import ImageSet
    from bagnet_repro.training.finetune import input_statistics

    images = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8)
    images[:, 1] //= 4  # a darker second channel
    mean, std = channel_statistics(images)
    scaled = images.double() / 255
    torch.testing.assert_close(torch.tensor(mean, dtype=torch.float64), scaled.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(torch.tensor(std, dtype=torch.float64), scaled.std(dim=(0, 2, 3), correction=0))
    data = ImageSet(images, torch.zeros(50, dtype=torch.long), [], [])
    settings = TrainSettings(model="feature_amounts", image_size=32, normalization="data")
    normalised = normalize(images, input_statistics(settings, data))
    torch.testing.assert_close(normalised.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    plain = TrainSettings(model="feature_amounts", image_size=32, normalization="none")
    torch.testing.assert_close(normalize(images, input_statistics(plain, data)), images.float() / 255)


STUDY = {
    "data": {"source": "demo", "urls": [], "demo": {"train_per_class": 4, "test_per_class": 3, "width": 32,
                                                    "height": 32, "seed": 0}},
    "split": {"seed": 1, "val_fraction": 0.5, "test_per_class": 2},
    "models": ["bagnet9"],
    "weights": {"models": {"bagnet9": "none"}},
    "compute": {"device": "cpu", "threads": 1},
    "feature_amounts": {"dataset": "scene15", "variants": [160, 176, 192], "uniform": False,
                        "options": {"epochs": 1, "batch_size": 16}},
}


def test_killed_study_reruns_only_the_missing_variants(tmp_path):
    config = tmp_path / "study.yaml"
    config.write_text(json.dumps(STUDY))
    work = tmp_path / "work"
    runs = work / "results/feature_amounts/scene15_depth16"
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"))
    command = [sys.executable, "-m", "snakemake", "-s", str(PROJECT / "Snakefile"), "--directory", str(work),
               "--cores", "1", "report/tables/feature_amounts.tsv", "--configfile", str(config)]
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
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
    config.write_text(json.dumps({"feature_amounts": {"dataset": "cifar10", "depth": 16, "uniform": False,
                                                      "seeds": [0, 1]},
                                  "compute": {"device": "cuda", "threads": 4}}))
    env = {**os.environ, "BAGNET_SLURM_PARTITION": "gpu-queue", "BAGNET_SLURM_ACCOUNT": "lab42"}
    result = run_snakemake(tmp_path, "-n", "--profile", str(PROJECT / "profiles" / "slurm"), "--workflow-profile",
                           "none", "report/figures/feature_amounts.html", "--configfile", str(config), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = re.split(r"\n(?=rule |localrule )", result.stdout)
    runs = [job for job in jobs if job.startswith("rule feature_amount_run:")]
    assert len(runs) == 193 * 2
    for job in runs:
        resources = re.search(r"resources: (.*)", job).group(1)
        assert "gpu=1" in resources and "runtime=720" in resources and "slurm_partition=gpu-queue" in resources
    assert len([job for job in jobs if re.match(r"(local)?rule feature_amount_data:", job)]) == 1
