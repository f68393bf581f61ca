"""Reading config files: YAML syntax errors named with file and line, the schema file, merging as Snakemake
merges ``--configfile`` files."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UserError

# Package data: the workflow and ``check-config`` read this one file, also from a non-editable install.
SCHEMA = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


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


def merged(base: dict, update: dict) -> dict:
    """``update`` over ``base``, mappings merged key by key (as Snakemake merges --configfile files)."""
    result = dict(base)
    for key, value in update.items():
        result[key] = (
            merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
        )
    return result
