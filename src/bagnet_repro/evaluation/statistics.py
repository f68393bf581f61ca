"""Table 1 with honest uncertainty: bootstrap CIs over seeds and images, McNemar tests, per-class metrics.

Inputs are the per-(model, seed) prediction tables of ``evaluate``: one row per image and condition.
The bootstrap resamples seeds and test images together (the same images for every seed of a draw), so
the interval reflects both run-to-run variation and the finite test set. McNemar's exact test compares
two models on the same (seed, image) pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from ..config.classes import REPORT_CLASSES
from ..config.networks import REPORT_SCRAMBLE_GRID, network
from ..errors import UserError
from ..files.atomic import write_text_atomic

TABLE1_METRICS = {"val_acc": "val", "test_acc": "test", "scrambled_test_acc": "scrambled_test"}
REFERENCE_MODEL = "bagnet33"


def read_predictions(files: dict[tuple[str, int], str]) -> pd.DataFrame:
    """All prediction tables, with ``model`` and ``seed`` columns added."""
    frames = []
    for (model, seed), path in files.items():
        if not Path(path).is_file():
            raise UserError(f"predictions not found: {path}")
        # Only an empty cell is missing: a class folder may be called "NA" or "None".
        frame = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
        frames.append(frame.assign(model=model, seed=seed))
    return pd.concat(frames, ignore_index=True)


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
    discordant = first_only + second_only
    p_value = binomtest(first_only, discordant, 0.5).pvalue if discordant else 1.0
    return {
        "model_a": first,
        "model_b": second,
        "condition": condition,
        "n_pairs": int(a.size),
        "a_only_correct": first_only,
        "b_only_correct": second_only,
        "p_value": float(p_value),
    }


def mcnemar_table(predictions: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    if REFERENCE_MODEL not in models:
        return pd.DataFrame(
            columns=["model_a", "model_b", "condition", "n_pairs", "a_only_correct", "b_only_correct", "p_value"]
        )
    rows = [
        mcnemar(predictions, REFERENCE_MODEL, other, condition)
        for other in models
        if other != REFERENCE_MODEL
        for condition in ("test", "scrambled_test")
    ]
    return pd.DataFrame(rows)


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


def sweep(predictions: pd.DataFrame, models: list[str], draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Accuracy (mean, 95% CI) per model and scrambling grid; grid 1 is the unscrambled image."""
    rng = np.random.default_rng(seed)
    conditions = sorted(
        {c for c in predictions.split.unique() if c.startswith("scrambled_g")},
        key=lambda c: int(c[len("scrambled_g") :]),
    )
    rows = []
    for model in models:
        for condition in conditions:
            grid = int(condition[len("scrambled_g") :])
            mean, low, high = bootstrap_ci(correctness_matrix(predictions, model, condition), draws, rng)
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


def summarize(
    files: dict[tuple[str, int], str], outputs: dict[str, str], scramble_grid: int, draws: int = 2000, seed: int = 0
) -> dict:
    """Write each table of ``SUMMARY_TABLES`` to the path ``outputs`` gives it; models keep ``files``' order.
    ``scramble_grid``: the g of the runs' g x g scrambled test (the report's values are for its own grid)."""
    missing = [name for name in SUMMARY_TABLES if name not in outputs]
    if missing:
        raise UserError(f"no output path for the {', '.join(missing)} table(s)")
    predictions = read_predictions(files)
    models = list(dict.fromkeys(model for model, _ in files))
    frames = {
        "table1": table1(predictions, models, scramble_grid, draws, seed),
        "mcnemar": mcnemar_table(predictions, models),
        "sweep": sweep(predictions, models, draws, seed),
    }
    frames["per_class"], frames["confusion"] = per_class(predictions, models)
    for name in SUMMARY_TABLES:
        write_text_atomic(outputs[name], frames[name].to_csv(index=False, float_format="%.6g"))
    return {name: len(frames[name]) for name in SUMMARY_TABLES}
