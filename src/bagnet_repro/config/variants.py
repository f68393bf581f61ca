"""Config variants: the grid that ``variants:`` spans (dotted config keys, each with a list of values), one full
run per point in its own folder, sharing what does not depend on a varied key.

Torch-free: the workflow plans the variants at start-up. Each variant is the workflow again as a Snakemake module
(workflow/rules/variants.smk) whose per-run outputs move under ``variants/<name>/`` and whose shared rules (the
data, the fetched and pretrained weights, the studies of their own) are left to the main workflow, so they run
once. A key those shared rules read cannot vary: the variants would no longer share them.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import dataclass

from ..errors import UserError

VARIANTS_DIR = "variants"
# Config sections the shared rules read, with why a variant cannot change them.
FIXED = {
    "data": "the variants share the data and its split (compare other data sets as separate runs)",
    "split": "the variants share the data and its split",
    "weights": "the variants share the fetched weights",
    "pretrain": "the variants share the pretraining",
    "feature_amounts": "the feature-amount study runs once, beside the variants",
    "backbones": "the backbone table runs once, beside the variants",
    "variants": "variants do not nest",
}
# The rules whose outputs every variant shares: left out of the variants' modules, so the main workflow's run once.
SHARED_RULES = (
    "all",
    "make_demo_data",
    "download",
    "extract",
    "inventory",
    "split",
    "audit",
    "fetch_weights",
    "imagenette_download",
    "imagenette_extract",
    "imagenet_kaggle",
    "imagenet_val",
    "pretrain_split",
    "pretrain",
    "feature_amount_data",
    "feature_amount_run",
    "feature_amount_table",
    "feature_amount_figures",
    "backbone_table",
)
# Where a variant's own outputs go: these places move under variants/<name>/ (the shared rules write elsewhere:
# results/data, results/downloads, results/weights, results/pretrain*, results/feature_amounts).
PER_RUN_PLACES = (
    "results/models/",
    "results/checkpoints/",
    "results/metrics/",
    "results/predictions/",
    "results/statistics/",
    "results/receptive_fields/",
    "results/heatmaps/",
    "results/precision/",
    "results/notebooks/",
    "results/paper/",
    "report/",
    "logs/",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass(frozen=True)
class Variant:
    """One point of the grid: its folder name, the varied keys' values and its whole config."""

    name: str
    values: dict
    config: dict

    @property
    def folder(self) -> str:
        return f"{VARIANTS_DIR}/{self.name}"

    def replace_prefix(self) -> dict[str, str]:
        """Snakemake's module ``replace_prefix``: the per-run places under this variant's folder."""
        return {place: f"{self.folder}/{place}" for place in PER_RUN_PLACES}


def _value_text(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return _UNSAFE.sub("-", text).strip("-") or "empty"


def variant_name(values: dict) -> str:
    """A folder name from the varied keys and values, of characters every file system and archiver keeps."""
    return "_".join(f"{key}-{_value_text(value)}" for key, value in values.items())


def _schema_knows(schema: dict, key: str) -> bool:
    """Whether ``key`` (dotted) is a key the config schema allows, given or not (training keys are optional)."""
    node = schema
    for part in key.split("."):
        properties = node.get("properties", {})
        if part in properties:
            node = properties[part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return False
    return True


def _assign(config: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = copy.deepcopy(value)


def _check_key(schema: dict, key: str, values) -> None:
    section = key.split(".")[0]
    if section in FIXED:
        raise UserError(f"config error at 'variants.{key}': {section}.* cannot vary ({FIXED[section]})")
    if not isinstance(values, list) or not values:
        raise UserError(f"config error at 'variants.{key}': give a non-empty list of values")
    if not _schema_knows(schema, key):
        raise UserError(f"config error at 'variants.{key}': {key} is not a key of the config (docs/configuration.md)")


def _refill_size_defaults(base: dict, variant: dict, values: dict) -> None:
    """A sweep that followed the base image size by default follows the variant's (the config check fills it
    in again); one the user gave, or that the variants set, stays."""
    from .checks import default_sweep_grids

    if "train.image_size" not in values or "evaluate.sweep_grids" in values:
        return
    evaluate = base["evaluate"]
    if evaluate.get("sweep_grids") == default_sweep_grids(base["train"]["image_size"], evaluate["sweep_max_grid"]):
        del variant["evaluate"]["sweep_grids"]


def variant_grid(config: dict, check=None) -> list[Variant]:
    """Every point of the ``variants:`` grid of the checked ``config``, in the order the lists give. ``check``
    (the workflow's config check) validates each variant's config; its error is named with the variant."""
    grid = config.get("variants") or {}
    if not grid:
        return []
    from .loading import load_schema

    schema = load_schema()  # read once for every varied key
    for key, values in grid.items():
        _check_key(schema, key, values)
    variants: list[Variant] = []
    seen: dict[str, dict] = {}
    for point in itertools.product(*grid.values()):
        values = dict(zip(grid, point, strict=True))
        name = variant_name(values)
        if name in seen:
            raise UserError(
                f"config error at 'variants': the variants {json.dumps(seen[name])} and {json.dumps(values)} "
                f"would share the folder {VARIANTS_DIR}/{name}"
            )
        seen[name] = values
        variant_config = copy.deepcopy(config)
        variant_config["variants"] = {}
        for key, value in values.items():
            _assign(variant_config, key, value)
        _refill_size_defaults(config, variant_config, values)
        # The studies that run once beside the variants are not the variants' own.
        variant_config["backbones"]["names"] = []
        variant_config["feature_amounts"]["dataset"] = "none"
        if check is not None:
            try:
                check(variant_config)
            except UserError as exc:
                raise UserError(f"variant {name}: {exc}") from None
        variants.append(Variant(name, values, variant_config))
    return variants


def _dotted(tree: dict, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in tree.items():
        keys += _dotted(value, f"{prefix}{key}.") if isinstance(value, dict) and value else [f"{prefix}{key}"]
    return keys


def overridden_keys(variants: list[Variant], overrides: dict | None) -> None:
    """A varied key that ``--config`` also sets: each variant's module would take the command line's value, and
    every variant would run the same; refused in one line."""
    if not variants or not overrides:
        return
    given = _dotted(overrides)
    for key in variants[0].values:
        clash = [g for g in given if g == key or g.startswith(f"{key}.") or key.startswith(f"{g}.")]
        if clash:
            raise UserError(
                f"config error at 'variants.{key}': --config also sets {clash[0]}, which would replace the "
                "variants' values; set it in a config file or drop it from variants"
            )


def run_place(path, place: str, other: str) -> str:
    """``other`` in the run folder of ``path``, which lies under ``place`` in it: the main run's own folder, or a
    config variant's (variants/<name>/). For the paths a rule names outside its inputs and outputs (a resume
    checkpoint, the folders the compute table reads), which Snakemake's module prefixes do not move."""
    return str(path)[: str(path).rindex(place)] + other


def variants_table_options(variants: list[Variant]) -> str:
    """``--variant FOLDER VALUES`` for each variant, quoted for the shell: the variants-table command's input."""
    import shlex

    return " ".join(f"--variant {shlex.quote(v.folder)} {shlex.quote(json.dumps(v.values))}" for v in variants)
