"""The report of a run whose config switched the scrambling sweep and the precision study off: paper-values takes
neither study's files, the PDF leaves their sections out and says so in one sentence, and a run with both
studies still prints them. Built from small tables through the real paper-values and Typst steps (seconds)."""

import json
from pathlib import Path

import pandas as pd
import pytest
from test_compute_table import make_run
from test_statistics import predictions_table

from bagnet_repro.cli.paper import paper_values
from bagnet_repro.compute.table import write_compute_table
from bagnet_repro.config.checks import check_config_files
from bagnet_repro.config.classes import REPORT_CLASSES
from bagnet_repro.config.workflow_plan import WorkflowPlan
from bagnet_repro.errors import UserError
from bagnet_repro.evaluation.statistics import summarize
from bagnet_repro.paper.build import build_pdf
from helpers import PROJECT

MODELS = ("bagnet33", "resnet50")
OFF_SENTENCE = (
    "The config's studies section switched off the scrambling sweep and the precision study, so this report "
    "leaves them out."
)


def run_config(tmp_path: Path, studies: str) -> dict:
    extra = tmp_path / "extra.yaml"
    extra.write_text(f"models: [{', '.join(MODELS)}]\nseeds: [0]\nstudies: {studies}\n")
    return check_config_files([PROJECT / "configs" / "demo.yaml", extra], PROJECT / "config.yaml")


def image(path: Path) -> str:
    """A small figure standing in for a notebook's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def run_inputs(folder: Path, sweep: bool, precision: bool) -> dict:
    """The files rule paper_values is given, written as the stages write them (the optional ones only for
    the studies that run)."""
    folder.mkdir()
    conditions = ("val", "test", "scrambled_test") + (("scrambled_g1", "scrambled_g2") if sweep else ())
    predictions = dict(
        predictions_table(folder / f"{model}.tsv", model, 0, [1, 1, 0, 1] * 15, conditions) for model in MODELS
    )
    tables = {name: str(folder / f"{name}.csv") for name in ("table1", "mcnemar", "per_class", "confusion")}
    if sweep:
        tables["sweep"] = str(folder / "sweep.csv")
    summarize(predictions, tables, scramble_grid=4, draws=20)
    manifest = folder / "manifest.tsv"
    rows = [(split, name, f"{name}/{split}.jpg", "0" * 64) for name in REPORT_CLASSES for split in ("train", "test")]
    pd.DataFrame(rows, columns=["split", "class", "path", "sha256"]).to_csv(manifest, sep="\t", index=False)
    history = folder / "history.csv"
    history.write_text("epoch,seconds,code_sha256\n1,3.0,abc\n")
    audit = folder / "audit.json"
    audit.write_text(json.dumps({"duplicate_pairs": 0, "across_final_splits": 0, "with_different_classes": 0}))
    make_run(folder)
    compute = folder / "compute.csv"
    write_compute_table(folder / "results", folder / "logs/benchmarks", compute, folder / "c.md", folder / "c.tex")
    (folder / "figure1.csv").write_text("")  # no BagNet layer table: the text says why
    files = {
        "figure1": str(folder / "figure1.csv"),
        "table1": tables["table1"],
        "mcnemar": tables["mcnemar"],
        "training_curves": image(folder / "curves.png"),
        "compute": str(compute),
    }
    options: dict = {}
    if sweep:
        files["scramble_sweep"] = image(folder / "sweep.png")
        options["sweep"] = tables["sweep"]
    if precision:
        files["weight_distribution"] = image(folder / "weights.png")
        options["precision"] = str(folder / "precision.csv")
        pd.DataFrame(
            [
                {
                    "model": m,
                    "mode": mode,
                    "status": "ok",
                    "n_images": 30,
                    "top1_agreement": 0.97,
                    "max_abs_logit_diff": 0.02,
                }
                for m in MODELS
                for mode in ("fp32", "bf16")
            ]
        ).to_csv(options["precision"], index=False)
        options["dead_layers"] = str(folder / "dead_layers.csv")
        pd.DataFrame({"model": list(MODELS), "dead_layer": [False, True]}).to_csv(options["dead_layers"], index=False)
    return {
        "file": list(files.items()),
        "audit_summary": str(audit),
        "manifest": str(manifest),
        "inventory": str(manifest),
        "histories": [str(history)],
        **options,
    }


def report_text(tmp_path: Path, monkeypatch, studies: str, sweep: bool, precision: bool) -> tuple[dict, str]:
    """The values and the PDF's text of a run with ``studies`` and the files of the studies that ran."""
    import pymupdf

    monkeypatch.chdir(tmp_path)
    config = run_config(tmp_path, studies)
    plan = WorkflowPlan(config, PROJECT)
    paper_values(
        **run_inputs(Path("run"), sweep, precision),  # paths from the working folder, Typst's root
        config=json.dumps(config),
        train_settings=json.dumps(plan.train_settings),
        project=str(PROJECT),
        snakemake_version="9",
        out="values.json",
    )
    build_pdf(PROJECT / "workflow" / "report" / "paper.typ", "values.json", "paper.pdf")
    with pymupdf.open("paper.pdf") as pdf:
        text = " ".join(" ".join(page.get_text() for page in pdf).split())
    return json.loads(Path("values.json").read_text()), text


def test_a_report_without_the_sweep_and_the_precision_study_leaves_them_out_and_says_so(tmp_path, monkeypatch):
    values, text = report_text(tmp_path, monkeypatch, "{sweep: false, precision: false}", False, False)
    assert "sweep" not in values and "precision" not in values
    assert "scramble_sweep" not in values["files"] and "weight_distribution" not in values["files"]
    assert OFF_SENTENCE in text
    assert "Precision and dead layers" not in text and "dead layers among" not in text
    assert "Accuracy against the number of shuffled pieces" not in text and "repeats the test for grids" not in text
    assert "sweep over other grids is switched off" in text  # the What-differs list
    # what stays: Table 1's scrambled test, the compute section and the checklists
    assert "At 16 pieces (Table 1" in text and "scrambled set) the accuracy changes by" in text
    assert "Compute per stage and in total" in text and "ML Code Completeness Checklist" in text


def test_a_report_with_both_studies_prints_their_sections(tmp_path, monkeypatch):
    values, text = report_text(tmp_path, monkeypatch, "{}", True, True)
    assert values["sweep"]["grids"] == ["1", "2"] and values["precision"]["dead_layers"] == "1"
    assert "repeats the test for grids of 1, 2 (up to 4 pieces)" in text
    assert "Precision and dead layers" in text and "finds 1 dead layers among 2" in text
    assert "switched off" not in text


@pytest.mark.parametrize(
    ("studies", "sweep", "precision", "words"),
    [
        ("{sweep: false}", True, True, "the config has studies.sweep: false, so it takes no --sweep, --file"),
        ("{precision: false}", True, True, "studies.precision: false, so it takes no --precision, --dead-layers"),
        ("{}", False, True, "paper-values needs --sweep, --file scramble_sweep: the config runs the sweep study"),
        ("{}", True, False, "needs --precision, --dead-layers, --file weight_distribution: the config runs the"),
    ],
)
def test_paper_values_takes_exactly_the_files_of_the_studies_the_config_runs(
    tmp_path, monkeypatch, studies, sweep, precision, words
):
    monkeypatch.chdir(tmp_path)
    config = run_config(tmp_path, studies)
    with pytest.raises(UserError) as error:
        paper_values(
            **run_inputs(Path("run"), sweep, precision),
            config=json.dumps(config),
            train_settings="{}",
            project=str(PROJECT),
            snakemake_version="9",
            out=str(tmp_path / "values.json"),
        )
    assert words in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "values.json").exists()
