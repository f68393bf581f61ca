"""The project's own environment variables with a fixed set of values: an unknown value is one line naming the
variable and the values it accepts, never silently taken as one of them (torch-free)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..errors import UserError


def choice(name: str, accepted: tuple[str, ...], default: str, env: Mapping[str, str] | None = None) -> str:
    """The value of ``name`` (case-insensitive; unset or empty: ``default``), one of ``accepted``."""
    env = os.environ if env is None else env
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in accepted:
        raise UserError(
            f"environment variable {name}={env[name]!r} is not one of: {', '.join(accepted)} (unset: {default})"
        )
    return value
