"""The project's own environment variables, read here alone: a switch takes ``on`` or ``off`` (any other value
is one line naming the variable and the values it accepts, never silently taken as one of them); a folder is
a path, unset when empty (torch-free)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import UserError

GPU_CHECK = "BAGNET_REPRO_GPU_CHECK"  # off: a job given a GPU may run on the CPU (a test cluster's stand-in GPUs)
TRACEBACK = "BAGNET_REPRO_TRACEBACK"  # on: torch's errors show their traceback instead of one line
SWITCHES = {GPU_CHECK: "on", TRACEBACK: "off"}  # each switch and its value when unset


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


def switch(name: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether the switch ``name`` (one of SWITCHES) is on."""
    return choice(name, ("on", "off"), SWITCHES[name], env) == "on"


def check_switches(env: Mapping[str, str] | None = None) -> None:
    """Every switch's value, checked before a command starts, so that a wrong one stops even a command that
    would not have read it."""
    for name in SWITCHES:
        switch(name, env)


def folder(name: str, env: Mapping[str, str] | None = None) -> Path | None:
    """The folder ``name`` names (``~`` expanded), or None when unset, empty or only spaces (never a folder
    named by spaces in the working directory)."""
    env = os.environ if env is None else env
    value = env.get(name, "")
    if not value.strip():
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise UserError(
            f"environment variable {name}={value!r} names a file, not a folder; name a folder (or unset it)"
        )
    return path
