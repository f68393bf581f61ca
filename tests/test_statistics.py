"""Statistics of Table 1: bootstrap intervals, exact McNemar, report differences, sweep and per-class tables."""

import numpy as np
import pandas as pd
import pytest

from bagnet_repro.config.classes import REPORT_CLASSES
from bagnet_repro.errors import UserError
from bagnet_repro.evaluation.statistics import SUMMARY_TABLES, bootstrap_ci, mcnemar, summarize
from helpers import run_cli


def predictions_table(
    path, model, seed, correct, conditions=("val", "test", "scrambled_test", "scrambled_g1"), classes=REPORT_CLASSES
):
    rows = []
    for condition in conditions:
        for index, ok in enumerate(correct):
            label = classes[index % len(classes)]
            rows.append(
                {
                    "split": condition,
                    "path": f"/img/{index}.jpg",
                    "sha256": f"k{index}",
                    "label": label,
                    "prediction": label if ok else classes[(index + 1) % len(classes)],
                    "correct": int(ok),
                }
            )
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return (model, seed), str(path)


def test_bootstrap_interval_covers_the_mean_and_narrows_with_more_images():
    rng = np.random.default_rng(0)
    small = (rng.random((2, 50)) < 0.8).astype(float)
    large = (rng.random((2, 5000)) < 0.8).astype(float)
    mean, low, high = bootstrap_ci(small, 1000, np.random.default_rng(1))
    assert low <= mean <= high and mean == small.mean()
    _, big_low, big_high = bootstrap_ci(large, 1000, np.random.default_rng(1))
    assert big_high - big_low < (high - low) / 3


def test_exact_mcnemar_on_known_counts(tmp_path):
    a = [1] * 10 + [1] * 20 + [0] * 5
    b = [0] * 10 + [1] * 20 + [0] * 5
    files = dict(
        [
            predictions_table(tmp_path / "a.tsv", "bagnet33", 0, a),
            predictions_table(tmp_path / "b.tsv", "resnet50", 0, b),
        ]
    )
    from bagnet_repro.evaluation.statistics import read_predictions

    result = mcnemar(read_predictions(files), "bagnet33", "resnet50", "test")
    assert (result["a_only_correct"], result["b_only_correct"], result["n_pairs"]) == (10, 0, 35)
    assert result["p_value"] == pytest.approx(2 * 0.5**10)


def outputs(folder):
    return {name: str(folder / f"{name}.csv") for name in SUMMARY_TABLES}


def test_summarize_writes_every_table(tmp_path):
    rng = np.random.default_rng(3)
    files = {}
    for model in ("bagnet33", "resnet50"):
        for seed in (0, 1):
            correct = rng.random(60) < (0.9 if model == "bagnet33" else 0.6)
            key, path = predictions_table(tmp_path / f"{model}{seed}.tsv", model, seed, correct)
            files[key] = path
    counts = summarize(files, outputs(tmp_path / "out"), scramble_grid=4, draws=200)
    assert counts == {"table1": 2, "mcnemar": 2, "sweep": 2, "per_class": 30, "confusion": 450}
    table = pd.read_csv(tmp_path / "out" / "table1.csv")
    row = table[table.model == "bagnet33"].iloc[0]
    assert row.n_seeds == 2 and row.n_test == 60
    assert row.test_acc_ci_low <= row.test_acc_mean <= row.test_acc_ci_high
    assert row.test_acc_report == 0.925 and row.test_acc_diff == pytest.approx(row.test_acc_mean - 0.925)
    assert row.scrambled_test_acc_report == 0.90
    sweep = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert list(sweep.pieces) == [1, 1]


def test_without_the_sweep_no_sweep_table_is_written_and_one_asked_for_needs_its_grids(tmp_path):
    """studies.sweep: false evaluates no sweep grid: summarize then writes no sweep table (not an empty one);
    asked for one all the same, it stops in one line before writing any table."""
    conditions = ("val", "test", "scrambled_test")
    files = dict([predictions_table(tmp_path / "a.tsv", "bagnet33", 0, [1, 0, 1, 1] * 4, conditions)])
    without = {name: path for name, path in outputs(tmp_path / "out").items() if name != "sweep"}
    counts = summarize(files, without, scramble_grid=4, draws=10)
    assert set(counts) == {"table1", "mcnemar", "per_class", "confusion"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{name}.csv" for name in counts)
    with pytest.raises(UserError, match="no grid of the scrambling sweep") as error:
        summarize(files, outputs(tmp_path / "again"), scramble_grid=4, draws=10)
    assert "\n" not in str(error.value) and not (tmp_path / "again").exists()


def test_another_scramble_grid_has_no_report_value_in_the_scrambled_column(tmp_path):
    """The report scrambled 4 x 4: a 2 x 2 run keeps the clean columns' report values, not the scrambled one."""
    files = dict([predictions_table(tmp_path / "a.tsv", "bagnet33", 0, [1, 0, 1, 1] * 4)])  # all 15 classes
    summarize(files, outputs(tmp_path / "out"), scramble_grid=2, draws=10)
    row = pd.read_csv(tmp_path / "out" / "table1.csv").iloc[0]
    assert row.test_acc_report == 0.925
    assert pd.isna(row.scrambled_test_acc_report) and pd.isna(row.scrambled_test_acc_diff)


def test_seeds_on_different_images_are_refused(tmp_path):
    files = dict(
        [
            predictions_table(tmp_path / "a.tsv", "bagnet33", 0, [1, 0, 1]),
            predictions_table(tmp_path / "b.tsv", "bagnet33", 1, [1, 0, 1, 1]),
        ]
    )
    with pytest.raises(UserError, match="seeds were evaluated on different val images"):
        summarize(files, outputs(tmp_path / "out"), scramble_grid=4, draws=10)


def test_the_classes_come_from_the_data_and_other_data_has_no_report_values(tmp_path):
    """Three classes (a space, capitals, non-ASCII letters): the per-class and confusion tables are theirs, in
    sorted order, and Table 1 compares nothing with the report (whose values are for the 15 scenes)."""
    classes = ("Zebra crossing", "Ærø", "apple")
    files = dict([predictions_table(tmp_path / "a.tsv", "bagnet33", 0, [1, 1, 0] * 5, classes=classes)])
    counts = summarize(files, outputs(tmp_path / "out"), scramble_grid=4, draws=10)
    assert counts["per_class"] == 3 and counts["confusion"] == 9
    per_class = pd.read_csv(tmp_path / "out" / "per_class.csv")
    assert list(per_class["class"]) == sorted(classes)
    confusion = pd.read_csv(tmp_path / "out" / "confusion.csv")
    assert confusion["count"].sum() == 15 and set(confusion.true) == set(classes)
    row = pd.read_csv(tmp_path / "out" / "table1.csv").iloc[0]
    assert row[["val_acc_report", "test_acc_report", "scrambled_test_acc_report"]].isna().all()


def test_holm_adjusts_step_down_and_keeps_the_order():
    from bagnet_repro.evaluation.statistics import holm

    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_paired_tests_fit_any_set_of_networks(tmp_path):
    from bagnet_repro.config.catalog import reference_model
    from bagnet_repro.evaluation.statistics import mcnemar_table, read_predictions

    assert reference_model(["resnet50", "bagnet17", "bagnet9"]) == "bagnet17"  # the first BagNet
    assert reference_model(["resnet50", "torchvision:resnet18"]) == "resnet50"  # no BagNet: the first network
    assert reference_model(["bagnet9", "bagnet33"], "bagnet33") == "bagnet33"  # the config's, when trained
    assert reference_model(["bagnet9", "resnet50"], "bagnet33") == "bagnet9"
    models = ["resnet50", "bagnet17", "torchvision:resnet18"]
    files = dict(
        predictions_table(tmp_path / f"{i}.tsv", model, 0, [(j + i) % 3 != 0 for j in range(30)])
        for i, model in enumerate(models)
    )
    predictions = read_predictions(files)
    against = mcnemar_table(predictions, models)
    assert list(zip(against.model_a, against.model_b, against.condition, strict=True)) == [
        ("bagnet17", other, condition)
        for other in ("resnet50", "torchvision:resnet18")
        for condition in ("test", "scrambled_test")
    ]
    every = mcnemar_table(predictions, models, pairing="all")
    assert len(every) == 6 and (every.p_holm >= every.p_value).all() and (every.p_holm <= 1).all()
    assert mcnemar_table(predictions, ["resnet50"]).empty  # one network: no pair


def test_the_sweep_gives_an_accuracy_table_1_gives_the_same_interval(tmp_path):
    from bagnet_repro.evaluation.statistics import read_predictions, sweep, table1

    files = dict([predictions_table(tmp_path / "a.tsv", "bagnet9", 0, [j % 3 != 0 for j in range(40)])])
    predictions = read_predictions(files)
    accuracy = table1(predictions, ["bagnet9"], scramble_grid=4, draws=300)
    shared = sweep(predictions, ["bagnet9"], draws=300, table=accuracy).iloc[0]  # grid 1: the clean test set
    row = accuracy.iloc[0]
    assert (shared.acc_ci_low, shared.acc_ci_high) == (row.test_acc_ci_low, row.test_acc_ci_high)
    marked = accuracy.assign(test_acc_ci_low=0.123, test_acc_ci_high=0.987)  # the sweep takes Table 1's own
    assert tuple(sweep(predictions, ["bagnet9"], draws=300, table=marked).iloc[0][["acc_ci_low", "acc_ci_high"]]) == (
        0.123,
        0.987,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="correct"), "is not a predictions table: column 'correct' is missing"),
        (lambda f: f.assign(correct=["1", "x", *f.correct[2:]]), "line 3: field 'correct' is 'x', not 0 or 1"),
        (lambda f: f.assign(label=["", *f.label[1:]]), "line 2: field 'label' is empty"),
    ],
)
def test_a_damaged_predictions_table_is_one_line_naming_the_file_line_and_field(tmp_path, change, message):
    import pandas as pd

    from bagnet_repro.errors import UserError
    from bagnet_repro.evaluation.statistics import read_predictions

    rows = [
        {"split": "test", "path": f"a/{i}.jpg", "sha256": "0" * 64, "label": "a", "prediction": "a", "correct": 1}
        for i in range(4)
    ]
    path = tmp_path / "seed0.tsv"
    change(pd.DataFrame(rows).astype(str)).to_csv(path, sep="\t", index=False)
    with pytest.raises(UserError) as error:
        read_predictions({("bagnet9", 0): str(path)})
    assert str(path) in str(error.value) and message in str(error.value) and "\n" not in str(error.value)


def test_summarize_reads_the_command_line_the_rule_writes(tmp_path):
    """--predictions repeats with three words each (the rule's line): every run is read, every table written."""
    runs = [("bagnet33", 0, [1, 1, 0, 1] * 10), ("bagnet33", 1, [1] * 40), ("resnet50", 0, [1, 0, 0, 1] * 10)]
    runs.append(("resnet50", 1, [0, 1] * 20))
    words = []
    for model, seed, correct in runs:
        _, path = predictions_table(tmp_path / f"{model}_{seed}.tsv", model, seed, correct)
        words += ["--predictions", model, str(seed), path]
    tables = [
        word for name, path in outputs(tmp_path / "out").items() for word in (f"--{name.replace('_', '-')}", path)
    ]
    result = run_cli("summarize", *words, *tables, "--scramble-grid", "4", "--bootstrap", "20", "--paired-tests", "all")
    assert result.returncode == 0, result.stderr
    table1 = pd.read_csv(tmp_path / "out" / "table1.csv")
    assert sorted(table1["model"]) == ["bagnet33", "resnet50"], table1
    assert len(pd.read_csv(tmp_path / "out" / "mcnemar.csv")) > 0
