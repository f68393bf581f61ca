"""Which of the optional studies a run makes, decided from the ``studies:`` section of the config alone.

Each study's switch is ``auto``, ``true`` or ``false``. ``auto`` is the default of its data set: the report's
studies for the 15-scene data (``data.source`` url or local) and the demo, and for a user's own image folder only
the studies about its data. A study switched on that lacks what it needs is a one-line error naming the key.
The planning (config/workflow_plan.py) asks ``resolve_studies``, the PDF's words (paper/settings.py) and
paper-values (which of its inputs a run has) ask ``switched_off_text`` and ``switched_off``; torch-free, as the
Snakefile reads it when it parses the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError
from .catalog import ORIGINAL_BAGNETS, backbone_study, heatmap_models

# The optional studies, in the order the report shows them, with what each makes (the docs and the report name them).
STUDIES = {
    "sweep": "the scrambling sweep",
    "precision": "the precision study",
    "heatmaps": "the patch heatmaps (Figures 2-4)",
    "feature_amounts": "the layer-wise feature-amount study",
    "backbones": "the vision-toolbox backbones' params/FLOPs/latency table",
}
# Studies that every data set runs unless the config says false: they need nothing but the trained models.
EVERY_DATA_SET = ("precision", "sweep")


@dataclass(frozen=True)
class Studies:
    """The resolved switches (name -> runs), the backbones the table measures, and why each study is off."""

    runs: dict[str, bool]
    backbones: list[str]
    switched_off: tuple[str, ...]  # off because the config says false (not because the data set has none)


def _on(switch: object, study: str, default: bool) -> bool:
    """``switch`` (auto/true/false) of ``study`` with ``default`` for auto; anything else is a config error."""
    if switch == "auto":
        return default
    if isinstance(switch, bool):
        return switch
    raise UserError(f"config error at 'studies.{study}': {switch!r} is not one of auto, true, false")


def resolve_studies(config: dict) -> Studies:
    """The studies ``config`` (validated, defaults filled in) runs; a switch that cannot hold is a UserError."""
    switches = config.get("studies", {})
    source = config["data"]["source"]
    names = config["backbones"]["names"]
    runs = {}

    # The table measures the networks, not the data: auto keeps backbones.names' own auto (all for the report's
    # data and the demo, none for a user's folder); true with names auto measures all of them.
    switch = switches.get("backbones", "auto")
    if switch == "auto":
        backbones = backbone_study(names, source)
    elif _on(switch, "backbones", True):
        backbones = backbone_study("all" if names == "auto" else names, source)
        if not backbones:
            raise UserError("config error at 'backbones.names': studies.backbones is true but the list is empty")
    else:
        backbones = []
    runs["backbones"] = bool(backbones)

    dataset = config["feature_amounts"]["dataset"]
    runs["feature_amounts"] = _on(switches.get("feature_amounts", "auto"), "feature_amounts", dataset != "none")
    if runs["feature_amounts"] and dataset == "none":
        raise UserError(
            "config error at 'feature_amounts.dataset': studies.feature_amounts is true but the data set is none"
        )

    bagnets = heatmap_models(list(config["models"]))
    runs["heatmaps"] = _on(switches.get("heatmaps", "auto"), "heatmaps", bool(bagnets))
    if runs["heatmaps"] and not bagnets:
        raise UserError(
            "config error at 'models': studies.heatmaps is true but no original BagNet "
            f"({', '.join(ORIGINAL_BAGNETS)}) is trained"
        )

    for study in EVERY_DATA_SET:
        runs[study] = _on(switches.get(study, "auto"), study, True)

    return Studies({study: runs[study] for study in STUDIES}, backbones, switched_off(config))


def switched_off(config: dict) -> tuple[str, ...]:
    """The studies the config switched off (``studies.<name>: false``), in the report's order."""
    return tuple(study for study in STUDIES if config.get("studies", {}).get(study) is False)


def switched_off_text(config: dict) -> str:
    """One sentence naming the studies the config switched off (``studies.<name>: false``), or empty."""
    off = [STUDIES[study] for study in switched_off(config)]
    if not off:
        return ""
    listed = off[0] if len(off) == 1 else ", ".join(off[:-1]) + " and " + off[-1]
    pronoun = "it" if len(off) == 1 else "them"
    return f"The config's studies section switched off {listed}, so this report leaves {pronoun} out."
