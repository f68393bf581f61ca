"""End to end: the demo config through every rule to every table and figure, then nothing left to do."""

import csv

import pytest

from conftest import PROJECT, run_snakemake

pytestmark = pytest.mark.slow
DEMO = str(PROJECT / "configs" / "demo.yaml")


def test_demo_workflow_end_to_end(tmp_path):
    result = run_snakemake(tmp_path, "--cores", "2", "--configfile", DEMO)
    assert result.returncode == 0, result.stderr[-4000:]

    with open(tmp_path / "report/tables/table1.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    models = ["bagnet9", "bagnet17", "bagnet33", "resnet50", "densenet121", "densenet169", "cbam_resnet50",
              "vovnet19_slim"]
    assert [r["model"] for r in rows] == models
    for row in rows:
        for metric in ("val_acc", "test_acc", "scrambled_test_acc"):
            low, mean, high = (float(row[f"{metric}_{part}"]) for part in ("ci_low", "mean", "ci_high"))
            assert 0.0 <= low <= mean <= high <= 1.0
        assert row["n_seeds"] == "1" and row["n_test"] == "150" and row["n_val"] == "60"
        assert float(row["test_acc_diff"]) == pytest.approx(float(row["test_acc_mean"]) - float(row["test_acc_report"]),
                                                            abs=1e-4)
    # Training learned something: the best model is far above chance (1/15) on the test set.
    assert max(float(r["test_acc_mean"]) for r in rows) > 0.5
    assert "| Model" in (tmp_path / "report/tables/table1.md").read_text()
    assert "\\begin{table}" in (tmp_path / "report/tables/table1.tex").read_text()
    with open(tmp_path / "report/tables/mcnemar.csv", newline="") as handle:
        tests = list(csv.DictReader(handle))
    assert {(t["model_b"], t["condition"]) for t in tests} == {
        (m, c) for m in models if m != "bagnet33" for c in ("test", "scrambled_test")}
    assert all(0.0 <= float(t["p_value"]) <= 1.0 and t["n_pairs"] == "150" for t in tests)
    figures = ["training_curves", "scramble_sweep"] + [f"confusion_{m}" for m in models]
    for name in figures + ["weight_distribution"]:
        assert (tmp_path / f"report/figures/{name}.pdf").read_bytes().startswith(b"%PDF"), name
    with open(tmp_path / "results/statistics/sweep.csv", newline="") as handle:
        assert sorted({int(r["pieces"]) for r in csv.DictReader(handle)}) == [1, 4, 16, 64]
    with open(tmp_path / "report/tables/precision.csv", newline="") as handle:
        modes = list(csv.DictReader(handle))
    assert {m["mode"] for m in modes} == {"fp32", "tf32", "bf16", "fp16"} and len(modes) == 4 * len(models)
    assert all(m["n_images"] == "15" for m in modes)
    assert (tmp_path / "report/tables/dead_layers.csv").is_file()
    assert (tmp_path / "results/notebooks/table1.ipynb").is_file()
    for model in ("bagnet33", "resnet50"):
        log = (tmp_path / f"logs/train/{model}_seed0.log").read_text()
        assert f"{model} epoch 2/2" in log

    # The feature-amount study in miniature: its table (two variants and the uniform VGG), figures and page.
    with open(tmp_path / "report/tables/feature_amounts.tsv", newline="") as handle:
        study = list(csv.DictReader(handle, delimiter="\t"))
    assert [r["model_id"] for r in study] == ["160", "192", "uniform"]
    assert all(r["epochs_run"] == "1" and 0.0 <= float(r["best_val_acc"]) <= 1.0 for r in study)
    for name in ("accuracy", "profiles", "parameters"):
        assert (tmp_path / f"report/figures/feature_amounts_{name}.pdf").read_bytes().startswith(b"%PDF"), name
    assert "plotly" in (tmp_path / "report/figures/feature_amounts.html").read_text()

    # Seed 003's table for the demo's three backbones, with latency named by the machine.
    with open(tmp_path / "report/tables/backbones.csv", newline="") as handle:
        backbones = {r["backbone"]: r for r in csv.DictReader(handle)}
    assert list(backbones) == ["darknet19", "vovnet19_slim", "mobilenet_v3_small"]
    small = backbones["mobilenet_v3_small"]
    assert (small["params_m"], small["seed_params_m"], small["seed_gflops"]) == ("0.93", "0.93", "0.12")
    assert all(float(r["latency_ms_batch1"]) > 0 and "threads" in r["device"] for r in backbones.values())

    with open(tmp_path / "report/tables/receptive_fields.csv", newline="") as handle:
        fields = {r["model"]: r for r in csv.DictReader(handle)}
    assert [fields[m]["measured_rf"] for m in ("bagnet9", "bagnet17", "bagnet33")] == ["9", "17", "33"]
    assert fields["resnet50_torchvision"]["theoretical_rf"] == "427" and fields["resnet50"]["theoretical_rf"] == "483"
    assert fields["densenet121"]["theoretical_rf"] == "2071" and fields["densenet169"]["theoretical_rf"] == "3351"
    with open(tmp_path / "report/tables/figure1.csv", newline="") as handle:
        bagnet33 = [r for r in csv.DictReader(handle) if r["model"] == "bagnet33"]
    assert [(r["input_size"], r["output_size"], r["receptive_field"]) for r in bagnet33] == [
        ("224", "222", "3"), ("222", "110", "5"), ("110", "54", "9"), ("54", "26", "17"), ("26", "24", "33")]

    import numpy as np

    heatmaps = np.load(tmp_path / "results/heatmaps/heatmaps.npz")
    assert list(heatmaps["models"]) == ["bagnet9", "bagnet17", "bagnet33"]
    assert heatmaps["bagnet33__heatmaps"].shape == (3, 15, 48, 48)
    assert heatmaps["bagnet33__scrambled"].shape == (1, 15, 48, 48)
    for name in ("heatmaps_classes", "heatmaps_models", "heatmaps_scrambled"):
        assert (tmp_path / f"report/figures/{name}.pdf").read_bytes().startswith(b"%PDF")
        assert (tmp_path / f"report/figures/{name}.png").read_bytes().startswith(b"\x89PNG")

    again = run_snakemake(tmp_path, "-n", "--configfile", DEMO)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr
