"""A record the project reads back (a JSON file it wrote earlier, or one that travelled in a run archive) is
checked against its JSON schema when read: a missing, mistyped or negative field is one line naming the file and
the field, so nothing downstream (a table, the PDF) is ever built from it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import UserError

NUMBER = {"type": "number", "minimum": 0}  # a time, a size or an amount of energy: never negative
OPTIONAL_NUMBER = {"anyOf": [NUMBER, {"type": "null"}]}


def _field(error) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = next((name for name in error.validator_value if name not in error.instance), "?")
        path.append(str(missing))
    return ".".join(path) or "(top level)"


def _why(error) -> str:
    if error.validator == "required":
        return "is missing"
    if error.validator == "minimum":
        return f"is {error.instance!r}, below {error.validator_value}"
    if error.validator in ("minItems", "minLength"):
        return f"is {error.instance!r}, should be non-empty"
    if error.validator in ("type", "anyOf"):
        return f"is {error.instance!r}, not {_wanted(error.schema)}"
    return f"is {error.instance!r} ({error.message})"


def _wanted(schema: dict) -> str:
    if "anyOf" in schema:
        return " or ".join(_wanted(sub) for sub in schema["anyOf"])
    kind = schema.get("type", "a value")
    return f"a {kind}" + (f" >= {schema['minimum']}" if "minimum" in schema else "")


def problem(record, schema: dict) -> str | None:
    """The first violation of ``schema`` as ``field 'a.0.b' is ...``, or None."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(record), key=lambda e: [str(part) for part in e.absolute_path])
    if not errors:
        return None
    error = errors[0]
    return f"field '{_field(error)}' {_why(error)}"


def read_checked(path: str | os.PathLike, schema: dict, what: str, advice: str) -> dict:
    """The JSON record at ``path`` after ``schema``'s check; anything else is one line naming the file, the
    field and ``advice`` (what to do about it)."""
    try:
        record = json.loads(Path(path).read_text())
    except OSError as exc:
        raise UserError(f"{path}: cannot read this {what} ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UserError(f"{path} is not a {what}: not JSON ({exc}); {advice}") from None
    found = problem(record, schema)
    if found is not None:
        raise UserError(f"{path} is not a valid {what}: {found}; {advice}")
    return record
