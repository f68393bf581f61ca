"""The report's Compute section and checklist appendix: their values come from the run's compute table, config
and licence table; what the run cannot answer is marked so."""

import subprocess
import sys

from test_compute_table import make_run

from bagnet_repro.compute.table import write_compute_table
from bagnet_repro.paper.checklist import checklist_values
from bagnet_repro.paper.compute import compute_values
from bagnet_repro.paper.licences import LICENCES, licences_used
from bagnet_repro.paper.settings import run_facts

PROVENANCE = {"packages": {"torch": "2.14.1", "snakemake": "9.27.0"}}


def run_config(weights, data="url", pretrain="none", seeds=(1, 2)):
    return {
        "data": {"source": data},
        "models": list(weights),
        "weights": {"models": weights},
        "pretrain": {"dataset": pretrain},
        "seeds": list(seeds),
        "train": {"recipe": "report"},
    }


def compute_of(tmp_path):
    make_run(tmp_path)
    tables = tmp_path / "report" / "tables"
    write_compute_table(
        tmp_path / "results", tmp_path / "logs" / "benchmarks", *(tables / n for n in ("c.csv", "c.md", "c.tex"))
    )
    return compute_values(tables / "c.csv")


def test_compute_values_are_the_tables_totals_and_numerics(tmp_path):
    compute = compute_of(tmp_path)
    total = compute["total"]
    assert (total["jobs"], total["attempts"], total["failed_attempts"], total["epochs_failed"]) == ("5", "6", "1", "2")
    assert [stage["name"] for stage in compute["stages"]] == ["evaluate", "heatmaps", "train"]
    assert compute["unrecorded_stages"] == ["heatmaps"]  # its benchmark only
    assert compute["longest"][0] == {"stage": "heatmaps", "name": "heatmaps", "wall": "12 s"}
    assert set(compute["numerics"]) == {"bagnet9", "resnet50"}
    assert total["energy"].endswith("(2 of 5 jobs)")


def test_checklist_answers_say_what_the_run_cannot(tmp_path):
    compute = compute_of(tmp_path)
    config = run_config({"bagnet9": "imagenet", "resnet50": "https://example.org/mine.pth"}, seeds=(1,))
    run = run_facts(config, {"precision": "bf16"})
    assert (run["weight_sources"], run["own_weights"], run["precision"]) == (["imagenet"], True, "bf16")
    values = checklist_values(run, PROVENANCE, compute, seeds="1", n_test="1200", paired_tests="2")
    assert [item["item"] for item in values["code_completeness"]] == [
        "Specification of dependencies",
        "Training code",
        "Evaluation code",
        "Pre-trained models",
        "README file with results and the commands to reproduce them",
    ]
    neurips = {item["item"]: item for item in values["neurips"]}
    assert neurips["Error bars"]["answered"] == "partly" and "one seed" in neurips["Error bars"]["answer"]
    licences = neurips["Licences of existing assets"]
    assert licences["answered"] == "partly" and "15-scene images" in licences["answer"]
    assert "path or URL of your own" in licences["answer"]
    assert neurips["Experiments compute resources"]["answered"] == "partly"  # heatmaps kept no record
    assert "The stages heatmaps keep no compute record" in neurips["Experiments compute resources"]["answer"]
    assert "1 failed or killed attempts (2 epochs" in neurips["Experiments compute resources"]["answer"]
    used = [row["name"] for row in values["licences"] if row["used"] == "yes"]
    assert used == [LICENCES["scene15"].name, LICENCES["weights:imagenet"].name]
    assert len(values["licences"]) == len(LICENCES)  # the appendix prints the whole table


def test_every_weights_source_and_data_set_has_a_licence_row():
    from dataclasses import fields

    from bagnet_repro.models.sources import WeightSources

    for source in [field.name for field in fields(WeightSources)] + ["pretrained"]:
        assert f"weights:{source}" in LICENCES, source
    for data in ("scene15", "imagenet", "imagenette"):
        assert LICENCES[data].kind == "data"
    rows = licences_used("demo", ["none", "pytorchcv"], "imagenette")
    assert [row.name for row in rows] == [LICENCES[k].name for k in ("demo", "imagenette", "weights:pytorchcv")]


def test_the_licence_table_imports_no_torch():
    code = "import sys, bagnet_repro.paper.licences; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
