"""The variants side by side: one row per variant and network (the varied keys, Table 1's accuracies with their
intervals, the epochs run and the compute time), the paired tests between variants, and a figure of accuracy
against each varied key."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from ..errors import UserError
from ..files.atomic import write_text_atomic
from .compare import Comparison, Run, describe, paired_tests, read_run

ACCURACIES = {"test_acc": "test", "scrambled_test_acc": "scrambled test", "val_acc": "validation"}


def _epochs_run(folder: Path, model: str) -> float | None:
    """Mean number of epochs the seeds of ``model`` trained (rows of each history), None without histories."""
    histories = sorted((folder / "results/models" / model).glob("seed*/history.csv"))
    if not histories:
        return None
    return sum(len(pd.read_csv(path)) for path in histories) / len(histories)


def _model_minutes(folder: Path, model: str) -> float | None:
    path = folder / "report/tables/compute.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    row = table[(table.level == "model") & (table.name == model)]
    return round(float(row.wall_s.iloc[0]) / 60, 2) if len(row) else None


def variant_rows(run: Run, folder: Path, values: dict) -> list[dict]:
    rows = []
    for record in run.table1.to_dict("records"):
        shown = {key: json.dumps(value) if isinstance(value, list | dict) else value for key, value in values.items()}
        row = {**shown, "variant": run.label, "model": record["model"], "seeds": record["n_seeds"]}
        for metric in ACCURACIES:
            row.update(
                {
                    metric: record[f"{metric}_mean"],
                    f"{metric}_ci_low": record[f"{metric}_ci_low"],
                    f"{metric}_ci_high": record[f"{metric}_ci_high"],
                }
            )
        row["epochs_run"] = _epochs_run(folder, record["model"])
        row["train_eval_min"] = _model_minutes(folder, record["model"])
        rows.append(row)
    return rows


def variants_comparison(variants: list[tuple[str, dict]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the table, the paired tests) of the variant folders, each given with its varied keys' values."""
    if not variants:
        raise UserError("variants-table needs at least one --variant")
    runs, rows = [], []
    for folder, values in variants:
        run = read_run(folder, label=Path(folder).name)
        runs.append(run)
        rows += variant_rows(run, Path(folder), values)
    tests = paired_tests(runs) if len(runs) > 1 else pd.DataFrame()
    return pd.DataFrame(rows), tests


def _value_label(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def plot_variants(table: pd.DataFrame, keys: list[str], png: str | Path, pdf: str | Path) -> None:
    """Test and scrambled test accuracy (95% intervals) against each varied key: a column of panels per key, one
    line per network and value of the other keys."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = {"test_acc": "test accuracy", "scrambled_test_acc": "scrambled test accuracy"}
    figure, axes = plt.subplots(len(metrics), len(keys), figsize=(4.4 * len(keys), 6.4), squeeze=False)
    for column, key in enumerate(keys):
        others = [k for k in keys if k != key]
        positions = {v: i for i, v in enumerate(dict.fromkeys(table[key].map(_value_label)))}
        for row, (metric, title) in enumerate(metrics.items()):
            axis = axes[row][column]
            for group, rows in table.groupby(["model", *others], sort=False):
                parts = group if isinstance(group, tuple) else (group,)
                label = ", ".join(
                    [str(parts[0]), *(f"{k}={_value_label(v)}" for k, v in zip(others, parts[1:], strict=True))]
                )
                x = [positions[_value_label(v)] for v in rows[key]]
                error = [rows[metric] - rows[f"{metric}_ci_low"], rows[f"{metric}_ci_high"] - rows[metric]]
                axis.errorbar(x, rows[metric], yerr=error, marker="o", capsize=3, label=label)
            axis.set_xticks(list(positions.values()), list(positions))
            axis.set_xlabel(key)
            axis.set_ylabel(f"{title} (95% interval)", fontsize=8)
            axis.set_ylim(0, 1.02)
        axes[0][column].legend(fontsize=6, loc="best")
    figure.tight_layout()
    for path in (png, pdf):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=Path(path).suffix[1:], dpi=150)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(buffer.getvalue())
    plt.close(figure)


def variants_markdown(table: pd.DataFrame, tests: pd.DataFrame, keys: list[str]) -> str:
    """The table, the tests and one sentence per tested difference."""
    shown = table[[*keys, "model", "seeds", "test_acc", "scrambled_test_acc", "epochs_run", "train_eval_min"]]
    parts = ["# Variants\n", shown.to_markdown(index=False, floatfmt=".4f"), ""]
    if len(tests):
        parts += ["## Paired tests between variants\n", tests.to_markdown(index=False), ""]
        parts += describe(Comparison(pd.DataFrame(), table, tests))
    else:
        parts.append("One variant: no paired test between variants.")
    return "\n".join(parts) + "\n"


def _interval(row: dict, metric: str) -> str:
    return f"{row[metric]:.3f} [{row[f'{metric}_ci_low']:.3f}, {row[f'{metric}_ci_high']:.3f}]"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def variants_values(table: pd.DataFrame, tests: pd.DataFrame, keys: list[str], figure: str) -> dict:
    """What the variants' PDF prints, every sentence derived from the table and the tests."""
    values = {key: list(dict.fromkeys(table[key].astype(str))) for key in keys}
    variants = table.variant.nunique()
    networks = list(dict.fromkeys(table.model))
    grid = "; ".join(f"{key}: {', '.join(shown)}" for key, shown in values.items())
    grid_sentence = (
        f"{_count(variants, 'variant')} of the config ({grid}), each a full run of "
        f"{_count(len(networks), 'network')} ({', '.join(networks)})."
    )
    shared = (
        "The jobs that depend on no varied key (the data, its split and audit, any fetched or pretrained weights) "
        "ran once, for all the variants."
    )
    columns = [*keys, "network", "seeds", "test", "scrambled test", "validation", "epochs", "minutes"]
    rows = []
    for row in table.to_dict("records"):
        epochs = "" if pd.isna(row["epochs_run"]) else f"{row['epochs_run']:g}"
        minutes = "" if pd.isna(row["train_eval_min"]) else f"{row['train_eval_min']:.1f}"
        rows.append(
            [str(row[key]) for key in keys]
            + [str(row["model"]), str(row["seeds"])]
            + [_interval(row, metric) for metric in ACCURACIES]
            + [epochs, minutes]
        )
    tested = tests[tests.p_value.notna()] if len(tests) else tests
    differ = tested[tested.differs == "yes"] if len(tested) else tested
    if not len(tests):
        tests_sentence = "One variant: there is no pair of variants to test."
    elif not len(tested):
        tests_sentence = "No paired test applies: " + "; ".join(sorted(set(tests.pairing))) + "."
    else:
        tests_sentence = (
            f"Exact McNemar tests on the same test images, per network and condition, for every pair of variants: "
            f"{_count(len(tested), 'test')}, read together with Holm's correction; "
            f"{len(differ)} find a difference at the 0.05 level after it"
            + (" (listed below); the others do not, so those variants are not ranked." if len(differ) else ".")
        )
    sentences = describe(Comparison(pd.DataFrame(), table, differ)) if len(differ) else []
    return {
        "keys": keys,
        "key_count": len(keys),
        "grid_sentence": grid_sentence,
        "shared_sentence": shared,
        "columns": columns,
        "rows": rows,
        "figure": figure,
        "tests_sentence": tests_sentence,
        "sentences": sentences,
    }


def write_variants_table(
    variants: list[tuple[str, dict]],
    csv: str,
    md: str,
    tests_csv: str,
    figure: str,
    figure_pdf: str,
    template: str | None = None,
    values: str | None = None,
    pdf: str | None = None,
) -> None:
    """The table, tests, Markdown and figure; with ``template``, ``values`` and ``pdf`` also the variants' PDF."""
    table, tests = variants_comparison(variants)
    keys = list(variants[0][1])
    write_text_atomic(csv, table.to_csv(index=False, float_format="%.6g"))
    write_text_atomic(tests_csv, tests.to_csv(index=False))
    write_text_atomic(md, variants_markdown(table, tests, keys))
    plot_variants(table, keys, figure, figure_pdf)
    if template and values and pdf:
        from ..paper.build import build_pdf

        write_text_atomic(values, json.dumps(variants_values(table, tests, keys, figure), indent=1) + "\n")
        build_pdf(template, values, pdf)
