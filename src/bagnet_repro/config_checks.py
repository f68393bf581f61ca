"""Checks of a workflow config beyond its JSON schema: YAML syntax with file and line, and the rules that
tie several keys together. Torch-free: the Snakefile runs them at start-up, before any job, and
``bagnet-repro check-config`` runs them on a file (Snakemake reads ``--configfile`` files before the
workflow starts and reports a syntax error there without its line)."""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .data.classes import REPORT_CLASSES
from .data_catalog import PRETRAIN_DATASETS
from .errors import UserError

NUM_CLASSES = len(REPORT_CLASSES)  # the 15 scene classes (data/classes.py is import-free)
# Package data: the workflow and ``check-config`` read this one file, also from a non-editable install.
SCHEMA = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"
# The largest image side any stage accepts: the schema's maximum of every key below (a test holds them equal),
# and TrainSettings' bound for image_size given through --options.
MAX_IMAGE_SIZE = 4096
IMAGE_SIZE_KEYS = (
    "train.image_size",
    "receptive_fields.image_size",
    "receptive_fields.measure_size",
    "data.demo.width",
    "data.demo.height",
)
# Image sizes inside free option maps (TrainSettings values), which the schema does not type.
OPTION_IMAGE_SIZE_KEYS = (("feature_amounts", "options", "image_size"), ("pretrain", "options", "image_size"))


def load_yaml_file(path: str | os.PathLike) -> dict:
    """The mapping in ``path``; a syntax error becomes one line ``path:line:column: problem``."""
    import yaml

    try:
        with open(path) as handle:
            loaded = yaml.safe_load(handle)
    except OSError as exc:
        raise UserError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{where}: YAML syntax error: {problem}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UserError(f"{path}: a config file must be a mapping of keys, not {type(loaded).__name__}")
    return loaded


def load_schema(schema_path: str | os.PathLike = SCHEMA) -> dict:
    import yaml

    with open(schema_path) as handle:
        return yaml.safe_load(handle)


def schema_problem(config: dict, schema_path: str | os.PathLike = SCHEMA) -> str | None:
    """The first schema violation as one line naming the key, or None when the config is valid."""
    import jsonschema

    schema = load_schema(schema_path)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if not errors:
        return None
    error = jsonschema.exceptions.best_match(errors)
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    message = error.message
    allowed = [value for sub in error.context or () if sub.validator == "enum" for value in sub.validator_value]
    if error.validator == "anyOf" and allowed:
        # A name from one of several lists (model_name): say which names would do, not "any of the schemas".
        message = f"{error.instance!r} is not one of {sorted(set(allowed), key=allowed.index)}"
    if error.validator == "maximum" and key in IMAGE_SIZE_KEYS:
        return image_size_problem(key, error.instance)
    return f"config error at '{key}': {message}"


def image_size_problem(key: str, size: int) -> str:
    """Why ``size`` is refused at ``key``: the bound and the memory one such image takes before any layer."""
    gib = 3 * size * size * 4 / 2**30
    return (
        f"config error at '{key}': {size} is above the maximum image size {MAX_IMAGE_SIZE} (one {size} x {size} "
        f"image is {gib:.3g} GiB as float32 input alone; a batch and its activations take many times that)"
    )


def _option_image_size_problems(config: dict) -> list[str]:
    """The same bound for the image sizes of the option maps (feature_amounts.options, pretrain.options)."""
    problems = []
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
    from .training.settings import BY_DATASET, CHOICES  # settings reads MAX_IMAGE_SIZE from here

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


def merged(base: dict, update: dict) -> dict:
    """``update`` over ``base``, mappings merged key by key (as Snakemake merges --configfile files)."""
    result = dict(base)
    for key, value in update.items():
        result[key] = (
            merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
        )
    return result


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
        problem = next(iter(cross_field_problems(config) + _pretrained_problems(config)), None)
    if problem:
        raise UserError(problem)
    return config


def _resolve(schema: dict, root: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        target = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema if isinstance(schema, dict) else {}


def _branches(schema: dict, root: dict) -> list[dict]:
    """``schema`` and the alternatives it allows (anyOf, oneOf, allOf), each with its $ref resolved."""
    schema = _resolve(schema, root)
    found = [schema]
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, ()):
            found += _branches(sub, root)
    return found


_SCALARS = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def typed_by_schema(value, schema: dict, root: dict | None = None):
    """``value`` with each string converted to the integer, number, boolean or null its schema asks for.

    Snakemake parses ``--config key=value`` with YAML's base loader, so ``seeds=[1,2]`` arrives as
    ``['1', '2']`` and ``train={epochs: 3}`` as ``{'epochs': '3'}``. A string stays a string where the
    schema allows one, or where it does not read as a wanted type (the schema check then names it)."""
    import yaml

    root = schema if root is None else root
    branches = _branches(schema, root)
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            subs = [b["properties"][key] for b in branches if key in b.get("properties", {})]
            subs += [b["additionalProperties"] for b in branches if isinstance(b.get("additionalProperties"), dict)]
            result[key] = typed_by_schema(item, {"anyOf": subs}, root) if subs else item
        return result
    if isinstance(value, list):
        subs = [b["items"] for b in branches if isinstance(b.get("items"), dict)]
        return [typed_by_schema(item, {"anyOf": subs}, root) for item in value] if subs else value
    if not isinstance(value, str):
        return value
    types = {t for b in branches for t in ([b["type"]] if isinstance(b.get("type"), str) else b.get("type", []))}
    if "null" in types and value in ("null", "~"):
        return None
    if "string" in types or not types & set(_SCALARS):
        return value
    try:
        candidates = [yaml.safe_load(value)]
    except yaml.YAMLError:
        candidates = []
    for convert in (int, float):  # YAML 1.1 reads 1e-3 as a string; Python reads it as a number
        with contextlib.suppress(ValueError):
            candidates.append(convert(value))
    wanted = [_SCALARS[t] for t in types & set(_SCALARS)]
    return next((c for c in candidates if any(fits(c) for fits in wanted)), value)


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


def archive_name(entry: dict) -> str:
    """The file name of a download: ``name``, or the last component of the URL's path."""
    return entry.get("name") or PurePosixPath(urlsplit(entry["url"]).path).name


def _url_problems(config: dict) -> list[str]:
    if config["data"]["source"] != "url":
        return []
    problems, seen = [], {}
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
    from .feature_amounts.depths import depth_problem

    problem = depth_problem(config.get("feature_amounts", {}).get("depth", 16))
    return [f"config error at 'feature_amounts.depth': {problem}"] if problem else []


def cross_field_problems(config: dict) -> list[str]:
    """Every violated rule that spans several keys, each as one line naming a key (empty when none)."""
    return (
        _url_problems(config)
        + _grid_problems(config)
        + _demo_split_problems(config)
        + _option_image_size_problems(config)
        + _option_choice_problems(config)
        + _feature_amount_problems(config)
        + _feature_amount_depth_problems(config)
    )
