"""Table 1 with honest uncertainty: bootstrap CIs over seeds and images, McNemar tests, per-class metrics.

Inputs are the per-(model, seed) prediction tables of ``evaluate``: one row per image and condition.
The bootstrap resamples seeds and test images together (the same images for every seed of a draw), so
the interval reflects both run-to-run variation and the finite test set. McNemar's exact test compares
two models on the same (seed, image) pairs: a reference network against each other one, or every pair, with
Holm's correction over all the tests of the table (the family the text reads together).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from ..config.catalog import reference_model
from ..config.classes import REPORT_CLASSES
from ..config.networks import REPORT_SCRAMBLE_GRID, network
from ..errors import UserError
from ..files.atomic import write_text_atomic
from .pairs import holm, mcnemar_exact

TABLE1_METRICS = {"val_acc": "val", "test_acc": "test", "scrambled_test_acc": "scrambled_test"}
MCNEMAR_COLUMNS = [
    "model_a",
    "model_b",
    "condition",
    "n_pairs",
    "a_only_correct",
    "b_only_correct",
    "p_value",
    "p_holm",
]
PAIRINGS = ("reference", "all")


def read_predictions(files: dict[tuple[str, int], str]) -> pd.DataFrame:
    """All prediction tables, with ``model`` and ``seed`` columns added."""
    frames = []
    for (model, seed), path in files.items():
        if not Path(path).is_file():
            raise UserError(f"predictions not found: {path}")
        # Only an empty cell is missing: a class folder may be called "NA" or "None".
        frame = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
        check_predictions(frame, path)
        frames.append(frame.assign(model=model, seed=seed))
    return pd.concat(frames, ignore_index=True)


PREDICTION_COLUMNS = ("split", "path", "label", "prediction", "correct")


def check_predictions(frame: pd.DataFrame, path: str) -> None:
    """A predictions table as evaluate writes it, checked when read: every column there, no empty cell in them,
    and ``correct`` 0 or 1; anything else is one line naming the file, the line and the field."""
    advice = "rerun its evaluate job"
    missing = [column for column in PREDICTION_COLUMNS if column not in frame.columns]
    if missing:
        raise UserError(f"{path} is not a predictions table: column '{missing[0]}' is missing; {advice}")
    for column in PREDICTION_COLUMNS:
        empty = frame.index[frame[column].isna()]
        if len(empty):
            raise UserError(f"{path}, line {empty[0] + 2}: field '{column}' is empty; {advice}")
    wrong = frame.index[~frame.correct.astype(str).isin(("0", "1"))]
    if len(wrong):
        value = frame.correct[wrong[0]]
        raise UserError(f"{path}, line {wrong[0] + 2}: field 'correct' is {value!r}, not 0 or 1; {advice}")


def correctness_matrix(predictions: pd.DataFrame, model: str, condition: str) -> np.ndarray:
    """seeds x images array of 0/1, images in a fixed (path) order shared by all seeds."""
    rows = predictions[(predictions.model == model) & (predictions.split == condition)]
    table = rows.pivot_table(index="seed", columns="path", values="correct", aggfunc="first")
    if table.isna().any().any():
        raise UserError(f"{model}: the seeds were evaluated on different {condition} images")
    return table.to_numpy(dtype=float)


def bootstrap_ci(
    correct: np.ndarray, draws: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean accuracy and percentile CI, resampling seeds (rows) and images (columns) with replacement."""
    seeds, images = correct.shape
    means = np.empty(draws)
    for index in range(draws):
        seed_pick = rng.integers(0, seeds, seeds)
        image_pick = rng.integers(0, images, images)
        means[index] = correct[np.ix_(seed_pick, image_pick)].mean()
    tail = (1 - level) / 2
    return float(correct.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def data_classes(predictions: pd.DataFrame) -> list[str]:
    """The data set's classes, sorted as the manifest orders them: every label the runs were tested on (a
    stratified split gives each class test images)."""
    return sorted(set(predictions.label))


def report_values(model: str, scramble_grid: int, classes: list[str]) -> tuple:
    """The report's (validation, test, scrambled) values of ``model`` that compare with this run: only on the
    report's 15 scene classes, and the scrambled one only when this run scrambles on the report's grid."""
    if tuple(classes) != REPORT_CLASSES:
        return None, None, None
    record = network(model)
    val, test, scrambled = (record and record.report) or (None, None, None)
    return val, test, scrambled if scramble_grid == REPORT_SCRAMBLE_GRID else None


def table1(
    predictions: pd.DataFrame, models: list[str], scramble_grid: int, draws: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per model: mean and 95% CI of each metric, number of seeds, the report's value and the difference
    (``scramble_grid``: the g of this run's g x g scrambled test)."""
    rng = np.random.default_rng(seed)
    classes = data_classes(predictions)
    rows = []
    for model in models:
        row: dict = {"model": model}
        for metric, condition in TABLE1_METRICS.items():
            correct = correctness_matrix(predictions, model, condition)
            mean, low, high = bootstrap_ci(correct, draws, rng)
            row.update({f"{metric}_mean": mean, f"{metric}_ci_low": low, f"{metric}_ci_high": high})
            row["n_seeds"] = correct.shape[0]
            row[f"n_{condition}"] = correct.shape[1]
        reported = report_values(model, scramble_grid, classes)
        for metric, value in zip(TABLE1_METRICS, reported, strict=True):
            row[f"{metric}_report"] = value
            row[f"{metric}_diff"] = None if value is None else row[f"{metric}_mean"] - value
        rows.append(row)
    return pd.DataFrame(rows)


def mcnemar(predictions: pd.DataFrame, first: str, second: str, condition: str) -> dict:
    """Exact McNemar test on (seed, image) pairs: does ``first`` err on different images than ``second``?"""
    a = correctness_matrix(predictions, first, condition)
    b = correctness_matrix(predictions, second, condition)
    if a.shape != b.shape:
        raise UserError(f"McNemar needs the same seeds and images for {first} and {second}")
    first_only = int(((a == 1) & (b == 0)).sum())
    second_only = int(((a == 0) & (b == 1)).sum())
    p_value = mcnemar_exact(first_only, second_only)
    return {
        "model_a": first,
        "model_b": second,
        "condition": condition,
        "n_pairs": int(a.size),
        "a_only_correct": first_only,
        "b_only_correct": second_only,
        "p_value": float(p_value),
    }


def model_pairs(models: list[str], reference: str, pairing: str) -> list[tuple[str, str]]:
    """The pairs to test: the reference against each other network, or every pair in the config's order."""
    if pairing not in PAIRINGS:
        raise UserError(f"evaluate.paired_tests: {pairing!r} is not one of {', '.join(PAIRINGS)}")
    if pairing == "all":
        return [(a, b) for index, a in enumerate(models) for b in models[index + 1 :]]
    return [(reference, other) for other in models if other != reference]


def mcnemar_table(
    predictions: pd.DataFrame, models: list[str], reference: str | None = None, pairing: str = "reference"
) -> pd.DataFrame:
    """Exact McNemar tests of the pairs ``model_pairs`` gives, on the clean and the scrambled test set, with
    Holm's adjusted p-values over the whole table. One network alone: no test (an empty table)."""
    if len(models) < 2:
        return pd.DataFrame(columns=MCNEMAR_COLUMNS)
    pairs = model_pairs(models, reference_model(models, reference), pairing)
    rows = [
        mcnemar(predictions, first, second, condition)
        for first, second in pairs
        for condition in ("test", "scrambled_test")
    ]
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table.p_value.tolist())
    return table[MCNEMAR_COLUMNS]


def per_class(predictions: pd.DataFrame, models: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-class precision/recall/F1 and the confusion counts on the clean test set, pooled over seeds."""
    scores, confusion = [], []
    classes = data_classes(predictions)
    for model in models:
        rows = predictions[(predictions.model == model) & (predictions.split == "test")]
        precision, recall, f1, support = precision_recall_fscore_support(
            rows.label, rows.prediction, labels=classes, zero_division=0
        )
        for index, name in enumerate(classes):
            scores.append(
                {
                    "model": model,
                    "class": name,
                    "precision": precision[index],
                    "recall": recall[index],
                    "f1": f1[index],
                    "support": int(support[index]),
                }
            )
        matrix = confusion_matrix(rows.label, rows.prediction, labels=classes)
        for i, true in enumerate(classes):
            for j, predicted in enumerate(classes):
                confusion.append({"model": model, "true": true, "predicted": predicted, "count": int(matrix[i, j])})
    return pd.DataFrame(scores), pd.DataFrame(confusion)


def _table1_interval(predictions: pd.DataFrame, table: pd.DataFrame, model: str, correct: np.ndarray):
    """Table 1's (mean, low, high) for ``model`` when ``correct`` is one of its conditions' matrices (the clean
    test set is the sweep's grid 1, Table 1's scrambled set one of its grids): the same accuracy then carries
    the same interval in both tables. None otherwise."""
    row = table[table.model == model]
    for metric, condition in TABLE1_METRICS.items():
        if metric == "val_acc" or row.empty:
            continue
        other = correctness_matrix(predictions, model, condition)
        if other.shape == correct.shape and np.array_equal(other, correct):
            entry = row.iloc[0]
            return entry[f"{metric}_mean"], entry[f"{metric}_ci_low"], entry[f"{metric}_ci_high"]
    return None


def sweep(
    predictions: pd.DataFrame,
    models: list[str],
    draws: int = 2000,
    seed: int = 0,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Accuracy (mean, 95% CI) per model and scrambling grid; grid 1 is the unscrambled image. Where a grid's
    predictions are those of a Table 1 column (``table``), its interval is Table 1's, so the two tables never
    give one accuracy two intervals."""
    rng = np.random.default_rng(seed)
    conditions = sorted(
        {c for c in predictions.split.unique() if c.startswith("scrambled_g")},
        key=lambda c: int(c[len("scrambled_g") :]),
    )
    rows = []
    for model in models:
        for condition in conditions:
            grid = int(condition[len("scrambled_g") :])
            correct = correctness_matrix(predictions, model, condition)
            mean, low, high = bootstrap_ci(correct, draws, rng)
            shared = None if table is None else _table1_interval(predictions, table, model, correct)
            if shared is not None:
                mean, low, high = shared
            rows.append(
                {
                    "model": model,
                    "grid": grid,
                    "pieces": grid * grid,
                    "acc_mean": mean,
                    "acc_ci_low": low,
                    "acc_ci_high": high,
                }
            )
    return pd.DataFrame(rows)


SUMMARY_TABLES = ("table1", "mcnemar", "per_class", "confusion", "sweep")
# The sweep's table is asked for only when the runs were evaluated on its grids (studies.sweep): a run without
# the sweep writes no table of it rather than an empty one that reads like a result.
OPTIONAL_TABLES = ("sweep",)


def summarize(
    files: dict[tuple[str, int], str],
    outputs: dict[str, str],
    scramble_grid: int,
    draws: int = 2000,
    seed: int = 0,
    reference: str | None = None,
    pairing: str = "reference",
) -> dict:
    """Write each table of ``SUMMARY_TABLES`` that ``outputs`` gives a path (all but ``OPTIONAL_TABLES`` must
    have one); models keep ``files``' order. ``scramble_grid``: the g of the runs' g x g scrambled test (the
    report's values are for its own grid); ``reference`` and ``pairing``: which networks the paired tests
    compare (``mcnemar_table``)."""
    missing = [name for name in SUMMARY_TABLES if name not in outputs and name not in OPTIONAL_TABLES]
    if missing:
        raise UserError(f"no output path for the {', '.join(missing)} table(s)")
    predictions = read_predictions(files)
    if "sweep" in outputs and not predictions.split.str.startswith("scrambled_g").any():
        raise UserError(
            f"no sweep table for {outputs['sweep']}: the predictions hold no grid of the scrambling sweep "
            "(evaluate.sweep_grids empty, or evaluated with studies.sweep: false)"
        )
    models = list(dict.fromkeys(model for model, _ in files))
    accuracy = table1(predictions, models, scramble_grid, draws, seed)
    frames = {"table1": accuracy, "mcnemar": mcnemar_table(predictions, models, reference, pairing)}
    if "sweep" in outputs:
        frames["sweep"] = sweep(predictions, models, draws, seed, accuracy)
    frames["per_class"], frames["confusion"] = per_class(predictions, models)
    written = [name for name in SUMMARY_TABLES if name in frames]
    for name in written:
        write_text_atomic(outputs[name], frames[name].to_csv(index=False, float_format="%.6g"))
    return {name: len(frames[name]) for name in written}
