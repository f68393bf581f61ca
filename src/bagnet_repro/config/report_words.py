"""The words Snakemake's HTML report needs about the run's data set and networks, computed from the config
when the report is rendered: its captions are Jinja templates that see the config and their rule's params alone,
so the rules hand these words over as params (``words``, ``data``) rather than each caption repeating the
catalog's rules. A rule's params are part of what Snakemake compares to decide whether a finished job reruns, so
each rule gets only the words its caption uses (``report_words`` for the networks, ``data_words`` for the data)."""

from __future__ import annotations

from pathlib import Path

from .catalog import BAGNET_NAMES, heatmap_models, main_heatmap_model, reference_model


def in_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def data_name(data: dict) -> str:
    """The data set's name in the report: ``data.name``, else the 15-scene data's or the folder's own name."""
    if data.get("name"):
        return str(data["name"])
    if data["source"] == "folder":
        return Path(data["folder"]).name or str(data["folder"])
    return "the 15-scene data"


def data_words(data: dict) -> str:
    """The data set as the captions name it: its name, and for the demo what its images are."""
    if data["source"] == "demo" and not data.get("name"):
        return "the synthetic demo textures (in the 15-scene layout, not real scenes)"
    return data_name(data)


def paired_tests_text(models: list[str], evaluate: dict) -> str:
    """Which pairs the McNemar tests compare, or why there is none."""
    if len(models) < 2:
        return f"no paired test: the run trains one network ({models[0]})"
    if evaluate.get("paired_tests") == "all":
        return "McNemar's exact test compares every pair of networks, Holm-corrected"
    reference = reference_model(models, evaluate.get("reference_model"))
    return f"McNemar's exact test compares {reference} with each other network, Holm-corrected"


def report_words(config: dict) -> dict[str, str]:
    models = list(config["models"])
    return {
        "models": in_words(models),
        "bagnets": in_words([m for m in models if m in BAGNET_NAMES]),
        "heatmap_models": in_words(heatmap_models(models)),
        "main_heatmap_model": main_heatmap_model(models) or "",
        "paired_tests": paired_tests_text(models, config["evaluate"]),
    }
