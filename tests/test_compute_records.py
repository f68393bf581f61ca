"""The compute record beside each result: attempts (killed, failed, succeeded), energy counters, numerics."""

import json
import sys
import types

import pytest
import torch

from bagnet_repro.compute.accounting import JobRecord, read_record, record_path
from bagnet_repro.compute.energy import EnergyMeter, energy_meter, nvml_counter, rapl_counter
from bagnet_repro.data.inventory import build_inventory, write_records
from bagnet_repro.data.split import seeded_split
from helpers import evaluate_command, run_cli, train_command


def a_job(tmp_path, **kwargs):
    return JobRecord(tmp_path / "best.pt", "train", "bagnet9_seed0", "device: cpu", "cpu", model="bagnet9", **kwargs)


def test_record_lives_beside_the_result():
    assert str(record_path("results/models/bagnet9/seed1/best.pt")) == "results/models/bagnet9/seed1/best.compute.json"
    assert str(record_path("results/metrics/bagnet9/seed1.json")) == "results/metrics/bagnet9/seed1.compute.json"


def test_a_killed_attempt_is_counted_apart_and_a_success_starts_a_new_record(tmp_path):
    with a_job(tmp_path) as job:
        job.epoch_done(1, 1)
        job.epoch_done(1, 2)
    # A second attempt that never reaches its exit: what kill -9 leaves behind.
    job = a_job(tmp_path).__enter__()
    job.epoch_done(1, 1)
    attempts = read_record(tmp_path / "best.compute.json")["attempts"]
    assert [a["status"] for a in attempts] == ["running"]  # the success before it began a new record
    with pytest.raises(RuntimeError), a_job(tmp_path) as job:
        job.epoch_done(2, 3)
        raise RuntimeError("out of memory\nmore")
    with a_job(tmp_path) as job:
        job.epoch_done(4, 4)
    attempts = read_record(tmp_path / "best.compute.json")["attempts"]
    assert [(a["attempt"], a["status"], a["epochs"]) for a in attempts] == [
        (1, "killed", 1),
        (2, "failed", 2),
        (3, "succeeded", 1),
    ]
    assert attempts[1]["error"] == "out of memory"
    assert all(a["wall_s"] >= 0 and a["cpu_s"] >= 0 and a["peak_host_mb"] > 0 for a in attempts)
    assert attempts[0]["energy_j"] is None or isinstance(attempts[0]["energy_j"], float)


def test_rapl_counters_are_read_and_unwrapped(tmp_path):
    zone = tmp_path / "intel-rapl:0"
    (tmp_path / "intel-rapl:0:0").mkdir(parents=True)  # a sub-zone: inside the package, not added again
    (tmp_path / "intel-rapl:0:0" / "energy_uj").write_text("5\n")
    zone.mkdir()
    (zone / "max_energy_range_uj").write_text("1000000\n")
    (zone / "energy_uj").write_text("900000\n")
    meter = EnergyMeter(rapl_counter(tmp_path))
    (zone / "energy_uj").write_text("950000\n")
    assert meter.reading()["energy_j"] == 0.05
    (zone / "energy_uj").write_text("100000\n")  # wrapped: 50000 to the range, then 100000
    reading = meter.reading()
    assert reading["energy_j"] == 0.2 and reading["energy_method"].startswith("RAPL energy of 1 CPU package")


def test_no_rapl_counter_says_not_measured(tmp_path):
    reading = energy_meter("cpu", powercap=tmp_path / "missing").reading()
    assert reading["energy_j"] is None and reading["energy_method"].startswith("not measured: ")


class StandInNvml(types.ModuleType):
    """pynvml's calls that the meter makes, over GPUs whose counters the test advances (millijoules)."""

    class NVMLError(Exception):
        pass

    def __init__(self, counters):
        super().__init__("pynvml")
        self.counters = counters

    def nvmlInit(self):
        pass

    def nvmlDeviceGetHandleByUUID(self, uuid):
        if uuid not in self.counters:
            raise self.NVMLError(f"Not Found: {uuid}")
        return uuid

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if self.counters[handle] is None:
            raise self.NVMLError("Not Supported")
        return self.counters[handle]


def test_gpu_energy_is_nvmls_counter_summed_over_the_jobs_gpus(monkeypatch):
    nvml = StandInNvml({"GPU-a": 1_000_000, "GPU-b": 2_000_000, "GPU-c": 5})
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    meter = energy_meter("cuda", ["GPU-a", "GPU-b"])
    nvml.counters.update({"GPU-a": 1_250_000, "GPU-b": 2_500_500, "GPU-c": 999_999})
    reading = meter.reading()
    assert reading == {"energy_j": 750.5, "energy_method": "NVML total energy of 2 GPU(s), whole device"}


def test_gpu_without_counter_or_binding_is_not_measured(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", StandInNvml({"GPU-old": None}))
    assert "Not Supported" in nvml_counter(["GPU-old"]).method
    monkeypatch.setitem(sys.modules, "pynvml", None)  # the binding not installed: import fails
    counter = nvml_counter(["GPU-a"])
    assert counter.read is None and counter.method.startswith("not measured: the NVML binding pynvml")


@pytest.fixture(scope="module")
def manifest(demo_data, tmp_path_factory):
    path = tmp_path_factory.mktemp("records") / "manifest.tsv"
    write_records(seeded_split(build_inventory(demo_data), 0.2, test_per_class=2, seed=0), path, "split")
    return path


def test_train_and_evaluate_record_their_compute_and_numerics(manifest, tmp_path):
    options = {"image_size": 32, "epochs": 2, "batch_size": 16, "precision": "bf16"}
    result = run_cli(*train_command(manifest, tmp_path, options))
    assert result.returncode == 0, result.stderr[-2000:]
    train = read_record(tmp_path / "best.compute.json")
    (attempt,) = train["attempts"]
    assert (train["stage"], train["job"], train["model"], train["seed"]) == ("train", "bagnet9_seed0", "bagnet9", 0)
    assert (attempt["status"], attempt["epochs"], attempt["gpus"], attempt["peak_device_mb"]) == (
        "succeeded",
        2,
        0,
        None,
    )
    assert attempt["device"].startswith("device: cpu")
    assert attempt["numerics"]["precision"] == "bf16" and attempt["numerics"]["autocast_dtype"] == "bfloat16"
    assert attempt["numerics"]["tf32_matmul"] == "n/a (not CUDA)"

    result = run_cli(*evaluate_command(tmp_path / "best.pt", manifest, tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["numerics"]["training"] == attempt["numerics"]
    assert metrics["numerics"]["evaluation"]["autocast_dtype"] == "none (fp32)"
    evaluation = read_record(tmp_path / "metrics.compute.json")
    assert (evaluation["stage"], evaluation["model"], evaluation["attempts"][0]["status"]) == (
        "evaluate",
        "bagnet9",
        "succeeded",
    )

    # evaluate.precision: the forward passes in bf16, recorded with the metrics; the predictions are still rows
    # of every image and condition
    bf16 = tmp_path / "bf16"
    result = run_cli(*evaluate_command(tmp_path / "best.pt", manifest, bf16), "--precision", "bf16")
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads((bf16 / "metrics.json").read_text())["numerics"]["evaluation"]
    assert (evaluation["precision"], evaluation["autocast_dtype"]) == ("bf16", "bfloat16")
    fp32_rows = (tmp_path / "predictions.tsv").read_text().count("\n")
    assert (bf16 / "predictions.tsv").read_text().count("\n") == fp32_rows


def test_numerics_read_torchs_switches_as_they_stand(monkeypatch):
    from bagnet_repro.compute.numerics import numerics

    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    values = numerics(torch.device("cpu"), "fp16", torch.float16, compiled=True)
    assert values["autocast_dtype"] == "float16" and values["compiled"] == "torch.compile"
    assert values["cudnn_benchmark"] == "n/a (not CUDA)"  # cuDNN is not used on a CPU
