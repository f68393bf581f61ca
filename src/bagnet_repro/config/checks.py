"""The one check of a workflow config: its schema (defaults filled in), then the rules that tie several keys
together. The Snakefile runs it at start-up, before any job, and ``bagnet-repro check-config`` runs it on files
(Snakemake reads ``--configfile`` files before the workflow starts and names a syntax error there without its
line)."""

from __future__ import annotations

import math
import os

from ..errors import UserError
from .classes import REPORT_CLASSES
from .datasets import PRETRAIN_DATASETS
from .limits import MAX_IMAGE_SIZE, OPTION_IMAGE_SIZE_KEYS, image_size_problem
from .loading import SCHEMA, load_schema, load_yaml_file, merged
from .networks import network, unknown_network_problem
from .schema import schema_problem, typed_by_schema
from .train_settings import BY_DATASET, CHOICES
from .urls import archive_name
from .vgg_depths import depth_problem

NUM_CLASSES = len(REPORT_CLASSES)  # the demo's classes: the 15 scene classes' names


def _option_image_size_problems(config: dict) -> list[str]:
    """The same bound for the image sizes of the option maps (feature_amounts.options, pretrain.options)."""
    problems: list[str] = []
    for path in OPTION_IMAGE_SIZE_KEYS:
        value = config
        for part in path:
            value = value.get(part, {}) if isinstance(value, dict) else {}
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_IMAGE_SIZE:
            problems.append(image_size_problem(".".join(path), value))
    return problems


def _option_choice_problems(config: dict) -> list[str]:
    """The choices inside the option maps, checked at planning time rather than when a job starts (the
    feature-amount study's augment may also be its recipe's per-data-set value)."""
    problems = []
    for stage in ("pretrain", "feature_amounts"):
        options = (config.get(stage) or {}).get("options") or {}
        for name, choices in CHOICES.items():
            allowed = (*choices, BY_DATASET) if (stage, name) == ("feature_amounts", "augment") else choices
            if name in options and options[name] not in allowed:
                problems.append(
                    f"config error at '{stage}.options.{name}': {options[name]!r} is not one of: {', '.join(allowed)}"
                )
    return problems


def check_config_files(
    paths: list[str | os.PathLike], base: str | os.PathLike, schema_path: str | os.PathLike = SCHEMA
) -> dict:
    """The config the workflow would run with (``paths`` over ``base``), or the first problem as a UserError."""
    config = load_yaml_file(base)
    for path in paths:
        config = merged(config, load_yaml_file(path))
    return check_workflow_config(config, schema_path=schema_path)


def check_workflow_config(config: dict, overrides: dict | None = None, schema_path: str | os.PathLike = SCHEMA) -> dict:
    """The one check of a merged config, run by the workflow at start-up and by ``check-config``.

    ``overrides`` (Snakemake's ``--config`` values, which reach the workflow as strings below the top
    level) are typed by the schema and merged over ``config``; then the schema (its defaults filled in)
    and the rules across keys. ``config`` is updated in place (it is the workflow's global) and returned;
    the first problem is raised as a UserError of one line naming the key."""
    from snakemake.utils import validate

    if overrides:
        config.update(merged(config, typed_by_schema(overrides, load_schema(schema_path))))
    problem = schema_problem(config, schema_path)
    if problem is None:
        validate(config, str(schema_path))  # fills in the schema's defaults
        fill_size_defaults(config)
        problem = next(iter(cross_field_problems(config) + _pretrained_problems(config)), None)
    if problem:
        raise UserError(problem)
    return config


def _pretrained_problems(config: dict) -> list[str]:
    """``weights: pretrained`` names this workflow's own pretraining, so it needs a pretraining dataset."""
    if config["pretrain"]["dataset"] != "none":
        return []
    return [
        f"config error at 'weights.models.{model}': 'pretrained' needs pretrain.dataset "
        f"({' or '.join(PRETRAIN_DATASETS)})"
        for model, value in config["weights"]["models"].items()
        if value == "pretrained"
    ]


def _url_problems(config: dict) -> list[str]:
    if config["data"]["source"] != "url":
        return []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(config["data"]["urls"]):
        name = archive_name(entry)
        if not name:
            problems.append(
                f"config error at 'data.urls.{index}.name': the URL {entry['url']!r} has no file "
                "name; give one with name:"
            )
        elif name in seen:
            problems.append(
                f"config error at 'data.urls.{index}.name': {name!r} is also the file name of "
                f"data.urls.{seen[name]}; give each download its own name"
            )
        seen.setdefault(name, index)
    return problems


def default_sweep_grids(image_size: int, largest: int) -> list[int]:
    """The scrambling sweep when the config names none: every grid up to ``largest`` that divides the size."""
    return [grid for grid in range(1, largest + 1) if image_size % grid == 0]


def fill_size_defaults(config: dict) -> None:
    """The defaults that follow the image size, filled in after the schema's own (so lowering
    ``train.image_size`` alone keeps a valid sweep)."""
    evaluate = config["evaluate"]
    if "sweep_grids" not in evaluate:
        evaluate["sweep_grids"] = default_sweep_grids(config["train"]["image_size"], evaluate["sweep_max_grid"])


def _grid_problems(config: dict) -> list[str]:
    size = config["train"]["image_size"]
    problems = []
    evaluate = config["evaluate"]
    for key, grids in (
        ("evaluate.scramble_grid", [evaluate["scramble_grid"]]),
        ("evaluate.sweep_grids", evaluate["sweep_grids"]),
    ):
        for grid in grids:
            if size % grid:
                problems.append(f"config error at '{key}': grid {grid} does not divide train.image_size {size}")
    return problems


def _demo_split_problems(config: dict) -> list[str]:
    """The demo's class sizes are known before any data exists; the other sources are checked by the split."""
    if config["data"]["source"] != "demo":
        return []
    demo, split = config["data"]["demo"], config["split"]
    problems = []
    if split["test_per_class"] > demo["test_per_class"]:
        problems.append(
            f"config error at 'split.test_per_class': {split['test_per_class']} test images per "
            f"class asked, data.demo.test_per_class makes {demo['test_per_class']}"
        )
    total = demo["train_per_class"] * NUM_CLASSES
    val = math.ceil(split["val_fraction"] * total)
    if val < NUM_CLASSES or total - val < NUM_CLASSES:
        problems.append(
            f"config error at 'split.val_fraction': {split['val_fraction']} of {total} images gives "
            f"{val} validation and {total - val} training images; a stratified split needs at "
            f"least one of each class on both sides"
        )
    return problems


def _folder_problems(config: dict) -> list[str]:
    """A folder data set is split by its own folders or fractions: the report's image lists name 15-scene files."""
    data = config["data"]
    if data["source"] == "folder" and data.get("split_file"):
        return [
            "config error at 'data.split_file': it lists the 15-scene report's images; a folder data set "
            "(data.source folder) is split by its own train/test folders or by split.test_fraction"
        ]
    return []


def _network_problems(config: dict) -> list[str]:
    """Each model's record: a torchvision family the table knows, and an image size the network takes."""
    size, problems = config["train"]["image_size"], []
    for index, name in enumerate(config["models"]):
        record = network(name)
        if record is None:
            problems.append(f"config error at 'models.{index}': {unknown_network_problem(name)}")
        elif record.fixed_size and size != record.fixed_size:
            problems.append(
                f"config error at 'train.image_size': {name} takes {record.fixed_size} px images only, not {size}"
            )
        elif size < record.min_size:
            problems.append(f"config error at 'train.image_size': {name} needs at least {record.min_size} px")
    for name in config["weights"]["models"]:
        if network(name) is None:
            problems.append(f"config error at 'weights.models': {unknown_network_problem(name)}")
    return problems


def _feature_amount_problems(config: dict) -> list[str]:
    """The study's networks pool five times: their input size must be a multiple of 32."""
    size = config.get("feature_amounts", {}).get("options", {}).get("image_size", 32)
    if not isinstance(size, int) or size < 32 or size % 32:
        return [
            f"config error at 'feature_amounts.options.image_size': {size!r} is not a multiple of 32 "
            "(the VGG variants pool five times)"
        ]
    return []


def _feature_amount_depth_problems(config: dict) -> list[str]:
    """Only the depths the VGG family and its network share (7 + 3L): others would build another depth."""
    problem = depth_problem(config.get("feature_amounts", {}).get("depth", 16))
    return [f"config error at 'feature_amounts.depth': {problem}"] if problem else []


def cross_field_problems(config: dict) -> list[str]:
    """Every violated rule that spans several keys, each as one line naming a key (empty when none)."""
    return (
        _url_problems(config)
        + _network_problems(config)
        + _grid_problems(config)
        + _demo_split_problems(config)
        + _folder_problems(config)
        + _option_image_size_problems(config)
        + _option_choice_problems(config)
        + _feature_amount_problems(config)
        + _feature_amount_depth_problems(config)
    )
