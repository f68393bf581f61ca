"""The config against its JSON schema: the first violation as one line naming the key, and ``--config``
strings typed as the schema asks."""

from __future__ import annotations

import contextlib
import os

from .limits import IMAGE_SIZE_KEYS, image_size_problem
from .loading import SCHEMA, load_schema


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
