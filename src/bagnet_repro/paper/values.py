"""The named values the report's text quotes, each formatted once, from the run's own tables.

The Typst document only prints names from this file (``#v.table1.bagnet33.test.mean``); a number typed into
the prose would drift from the run, a name cannot. Values are strings, formatted as they are printed.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pandas as pd

from ..config.catalog import BAGNET_NAMES, BAGNETS_V2, ORIGINAL_BAGNETS, heatmap_models, reference_model
from ..config.classes import REPORT_CLASSES
from ..config.networks import REPORT_SCRAMBLE_GRID
from ..config.report_words import in_words
from ..files.atomic import write_text_atomic
from .checklist import checklist_values
from .class_counts import class_counts
from .compute import compute_values

METRICS = {"val": "val_acc", "test": "test_acc", "scrambled": "scrambled_test_acc"}
SIGNIFICANCE = 0.05


def _accuracy(value) -> str:
    return "" if pd.isna(value) else f"{float(value):.3f}"


def _signed(value) -> str:
    return "" if pd.isna(value) else f"{float(value):+.3f}"


def _range(values: pd.Series) -> str:
    """'-1.9 to -8.5' (nearest zero first), one value when all agree, '' when there are none."""
    if not len(values):
        return ""
    ordered = sorted(values, key=abs)
    near, far = f"{ordered[0]:.1f}", f"{ordered[-1]:.1f}"
    return near if near == far else f"{near} to {far}"


def table1_values(table1: pd.DataFrame) -> dict:
    """Per model and metric: mean, interval, the report's value and our difference."""
    values = {}
    for row in table1.to_dict("records"):
        entry: dict[str, object] = {"seeds": str(int(row["n_seeds"])), "n_test": str(int(row["n_test"]))}
        for name, column in METRICS.items():
            entry[name] = {
                "mean": _accuracy(row[f"{column}_mean"]),
                "low": _accuracy(row[f"{column}_ci_low"]),
                "high": _accuracy(row[f"{column}_ci_high"]),
                "report": _accuracy(row.get(f"{column}_report")),
                "diff": _signed(row.get(f"{column}_diff")),
            }
        entry["scramble_drop"] = _signed(row["scrambled_test_acc_mean"] - row["test_acc_mean"])
        values[row["model"]] = entry
    return values


def _overlaps(table1: pd.DataFrame, row: pd.Series) -> list[str]:
    """The other models whose clean-test interval overlaps ``row``'s."""
    others = table1[table1.model != row.model]
    hit = (others.test_acc_ci_low <= row.test_acc_ci_high) & (others.test_acc_ci_high >= row.test_acc_ci_low)
    return list(others[hit].model)


def accuracy_text(table1: pd.DataFrame) -> str:
    """The clean test accuracies in words, never a ranking the intervals do not carry: one network alone, a tie
    (the same mean), a best whose interval overlaps others', or a best clear of all."""
    if len(table1) == 1:
        row = table1.iloc[0]
        return (
            f"{row.model} reaches a test accuracy of {_accuracy(row.test_acc_mean)} "
            f"(95% interval {_accuracy(row.test_acc_ci_low)} to {_accuracy(row.test_acc_ci_high)})"
        )
    top = table1.test_acc_mean.max()
    tied = list(table1[table1.test_acc_mean == top].model)
    if len(tied) > 1:
        return f"{in_words(tied)} reach the same test accuracy ({_accuracy(top)}), so the run does not rank them"
    best = table1.loc[table1.test_acc_mean.idxmax()]
    overlapping = _overlaps(table1, best)
    if overlapping:
        return (
            f"{best.model} has the highest mean test accuracy ({_accuracy(top)}), but its 95% interval overlaps "
            f"that of {in_words(overlapping)}, so the run does not rank them"
        )
    return (
        f"{best.model} is the most accurate on the clean test set ({_accuracy(top)}), its 95% interval clear of "
        "every other network's"
    )


def robustness_text(table1: pd.DataFrame) -> str:
    """Which network loses least to scrambling, ties named as ties."""
    change = table1.scrambled_test_acc_mean - table1.test_acc_mean
    least = change.max()
    names = list(table1[change == least].model)
    if len(table1) == 1:
        return f"scrambling changes its accuracy by {_signed(least)}"
    if len(names) > 1:
        return f"{in_words(names)} lose equally little to scrambling ({_signed(least)})"
    return f"the network that loses least to scrambling is {names[0]} ({_signed(least)})"


def summary_values(table1: pd.DataFrame) -> dict:
    """The comparisons the text states in words: the accuracies (ties and overlaps as such), and whether accuracy
    grows with the patch."""
    best = table1.loc[table1.test_acc_mean.idxmax()]
    robust = table1.loc[(table1.scrambled_test_acc_mean - table1.test_acc_mean).idxmax()]
    bagnets = [m for m in ORIGINAL_BAGNETS if m in set(table1.model)]
    by_model = table1.set_index("model").test_acc_mean
    growing = len(bagnets) > 1 and all(by_model[a] < by_model[b] for a, b in pairwise(bagnets))
    return {
        "best_model": best.model,
        "best_test": _accuracy(best.test_acc_mean),
        "accuracy_text": accuracy_text(table1) if "test_acc_ci_low" in table1 else "",
        "robustness_text": robustness_text(table1),
        "most_robust_model": robust.model,
        "most_robust_drop": _signed(robust.scrambled_test_acc_mean - robust.test_acc_mean),
        "bagnets": bagnets,
        "bagnets_grow_with_patch": growing,
        "models": list(table1.model),
        # This run's networks and seeds in words, and the networks the heatmaps are exact for.
        "models_text": in_words(list(table1.model)),
        "seeds_text": "one seed" if int(table1.n_seeds.max()) == 1 else f"{int(table1.n_seeds.max())} seeds",
        "heatmap_models_text": in_words(heatmap_models(list(table1.model))),
    }


def mcnemar_values(mcnemar: pd.DataFrame, models: list[str], evaluate: dict) -> dict:
    """The paired tests in words: which pairs, against which reference and why, how many reject before and after
    Holm's correction, or why there is none (Table 2 itself is read from the CSV)."""
    pairing = evaluate.get("paired_tests", "reference")
    reference = reference_model(models, evaluate.get("reference_model"))
    if evaluate.get("reference_model") == reference:
        chosen = "named by the configuration"
    elif reference in BAGNET_NAMES:
        chosen = "the run's first BagNet"
    else:
        chosen = "the run's first network, as it trains no BagNet"
    holm_column = mcnemar.p_holm if "p_holm" in mcnemar else mcnemar.p_value
    return {
        "reference": reference if pairing == "reference" else "",
        "reference_reason": chosen,
        "pairing": pairing,
        "pairs": str(len(mcnemar) // 2),
        "tests": str(len(mcnemar)),
        "significant": str(int((mcnemar.p_value < SIGNIFICANCE).sum())),
        "significant_holm": str(int((holm_column < SIGNIFICANCE).sum())),
        "level": f"{SIGNIFICANCE:g}",
        "none_reason": (
            f"This run trains one network ({models[0]}), so there is no pair for a paired test."
            if len(models) < 2
            else ""
        ),
    }


def sweep_values(sweep: pd.DataFrame) -> dict:
    """The sweep's grids and its largest number of pieces."""
    return {"pieces_max": str(int(sweep.pieces.max())), "grids": [str(g) for g in sorted(sweep.grid.unique())]}


def precision_values(precision: pd.DataFrame, dead_layers: pd.DataFrame, test_images: int) -> dict:
    """``test_images``: the size of the test set, so the text says when the study used a part of it."""
    ran = precision[precision.status == "ok"]
    used = int(precision.n_images.max()) if "n_images" in precision and len(precision) else test_images
    worst = ran.loc[ran.max_abs_logit_diff.idxmax()] if len(ran) else None
    return {
        "modes_run": sorted(set(ran["mode"])),
        "modes_not_run": sorted(set(precision["mode"]) - set(ran["mode"])),
        "min_agreement": f"{ran.top1_agreement.min():.3f}" if len(ran) else "",
        "worst_drift": "" if worst is None else f"{worst.max_abs_logit_diff:.3g}",
        "worst_drift_model": "" if worst is None else worst.model,
        "worst_drift_mode": "" if worst is None else worst["mode"],
        "images": str(used),
        "test_images": str(test_images),
        "dead_layers": str(int(dead_layers.dead_layer.astype(str).eq("True").sum())),
        "layers": str(len(dead_layers)),
    }


def figure1_values(figure1: str, models: list[str]) -> dict:
    """The BagNet whose layers the receptive-field table shows (the largest patch this run trained), or why the
    report has no such table."""
    shown = set(pd.read_csv(figure1).model) if Path(figure1).stat().st_size else set()
    patches = {**BAGNETS_V2, **ORIGINAL_BAGNETS}
    trained = sorted((m for m in models if m in patches and m in shown), key=patches.__getitem__)
    if not trained:
        return {"model": "", "reason": "This run trains no BagNet, so there is no table of a BagNet's receptive field."}
    return {"model": trained[-1], "patch": str(patches[trained[-1]]), "bagnets": trained, "reason": ""}


def reference_list(values: dict) -> list[str]:
    """The works the text cites, in the order it first cites them: the report and the BagNets paper always (the
    abstract), the scene data set's paper when the run has its classes (the demo's too), each optional study's
    source when it ran."""
    keys = ["report", "bagnets"]
    if values["split"]["report_classes"]:
        keys.append("scenes")
    keys += [
        key
        for key, group in (("feature-amounts", "feature_amounts"), ("vision-toolbox", "backbones"))
        if group in values
    ]
    return keys


def report_values() -> dict:
    """What the report's own values were measured on, for the text that says where they compare."""
    return {"scramble_grid": str(REPORT_SCRAMBLE_GRID), "scramble_pieces": str(REPORT_SCRAMBLE_GRID**2)}


def audit_values(summary: dict) -> dict:
    return {key: str(value) for key, value in summary.items()}


def split_values(manifest: pd.DataFrame) -> dict:
    """The classes and the images per split, counted as the HTML report's table of classes counts them."""
    counts = class_counts(manifest)
    classes = list(counts["class"].iloc[:-1])
    totals = counts.iloc[-1]
    return {
        "class_names": in_words(classes),
        "report_classes": tuple(classes) == REPORT_CLASSES,
        "train": str(totals["train"]),
        "val": str(totals["val"]),
        "test": str(totals["test"]),
        "classes": str(len(classes)),
    }


def optional_study_values(feature_amounts: str | None, backbones: str | None) -> dict:
    """The other studies' headline numbers, when the config ran them."""
    values: dict = {}
    if feature_amounts:
        runs = pd.read_csv(feature_amounts, sep="\t")
        variants = runs[runs.model_id.astype(str) != "uniform"]
        best = variants.loc[variants.best_val_acc.idxmax()]
        uniform = runs[runs.model_id.astype(str) == "uniform"]
        values["feature_amounts"] = {
            "runs": str(len(runs)),
            "variants": str(variants.model_id.nunique()),
            "best_id": str(best.model_id),
            "best_acc": _accuracy(best.best_val_acc),
            "uniform_acc": _accuracy(uniform.best_val_acc.max()) if len(uniform) else "",
        }
    if backbones:
        table = pd.read_csv(backbones)
        published = table.dropna(subset=["seed_params_m"])
        plain = published[~published.counter_misses_se.astype(bool)]
        se = published[published.counter_misses_se.astype(bool)]
        values["backbones"] = {
            "rows": str(len(table)),
            "published": str(len(published)),
            "worst_params_pct": f"{published.params_diff_pct.abs().max():.2f}" if len(published) else "",
            "worst_flops_pct": f"{plain.gflops_diff_pct.abs().max():.2f}" if len(plain) else "",
            "se_flops_range": _range(se.gflops_diff_pct),
            "device": str(table.device.iloc[0]),
        }
    return values


def collect_values(
    table1: str,
    mcnemar: str,
    audit_summary: str,
    manifest: str,
    provenance: dict,
    settings: dict,
    files: dict,
    feature_amounts: str | None = None,
    backbones: str | None = None,
    sweep: str | None = None,
    precision: tuple[str, str] | None = None,
) -> dict:
    """Every value the report prints, and the files it includes (by name). ``sweep`` (its table) and
    ``precision`` (its table and dead-layer census) are absent when the config switched the study off: the
    report then has no such group and leaves the section out."""
    table = pd.read_csv(table1)
    compute = compute_values(files["compute"])
    first = table1_values(table)[table.model.iloc[0]]
    paired = mcnemar_values(pd.read_csv(mcnemar), list(table.model), settings["paired_tests"])
    split = split_values(pd.read_csv(manifest, sep="\t", dtype=str, keep_default_na=False))
    values = {
        "table1": table1_values(table),
        "summary": summary_values(table),
        "mcnemar": paired,
        "has_report_values": bool(table[[f"{column}_report" for column in METRICS.values()]].notna().any().any()),
        "figure1": figure1_values(files["figure1"], list(table.model)),
        **({"sweep": sweep_values(pd.read_csv(sweep))} if sweep else {}),
        **(
            {"precision": precision_values(pd.read_csv(precision[0]), pd.read_csv(precision[1]), int(split["test"]))}
            if precision
            else {}
        ),
        "audit": audit_values(json.loads(Path(audit_summary).read_text())),
        "split": split,
        "settings": settings,
        "report": report_values(),
        "provenance": provenance,
        "files": files,
        "compute": compute,
        "checklist": checklist_values(
            settings["run"], provenance, compute, first["seeds"], first["n_test"], paired["tests"]
        ),
        **optional_study_values(feature_amounts, backbones),
    }
    values["references"] = reference_list(values)
    return values


def write_values(values: dict, out: str | Path) -> None:
    write_text_atomic(out, json.dumps(values, indent=2, default=str) + "\n")
