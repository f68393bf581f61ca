"""Checks and values that several stages' commands share: one line naming the option for a bad value, the
job's start (threads, device), the training settings (torch-free: ``--help`` stays quick)."""

from __future__ import annotations

import json

from ..errors import UserError


def start_job(device: str, threads: int, gpus: int = 0, stream=None) -> None:
    """What every computing command does first: torch's CPU threads, then the device claimed and named in the log
    (``device.start_device``)."""
    import torch

    from ..compute.device import start_device

    at_least("--threads", threads, 1)
    at_least("--gpus", gpus, 0)
    torch.set_num_threads(threads)
    start_device(device, gpus, stream=stream)


def at_least(name: str, value: int, minimum: int) -> None:
    """One line naming the option when a declared stage's number is below its minimum."""
    if value < minimum:
        raise UserError(f"{name} must be at least {minimum}, got {value}")


def recipe_choice(recipe: str) -> None:
    """``--recipe`` names a preset of config/recipes.py (its table is the one list of choices)."""
    from ..config.recipes import RECIPES

    if recipe not in RECIPES:
        raise UserError(f"--recipe: unknown recipe {recipe!r}; choose from: {', '.join(RECIPES)}")


def settings_values(recipe: str, options: str | None, model: str, seed: int, device: str) -> dict:
    """The recipe's preset with ``--options`` (a JSON object of TrainSettings values) on top, and the run's
    model, seed and device; a bad recipe, seed or key is refused in one line that names its option."""
    import dataclasses

    from ..config.recipes import recipe_values
    from ..config.train_settings import TrainSettings

    recipe_choice(recipe)
    at_least("--seed", seed, 0)
    try:
        overrides = json.loads(options) if options else {}
    except json.JSONDecodeError as exc:
        raise UserError(f"--options is not a JSON object: {exc}") from None
    if not isinstance(overrides, dict):
        raise UserError(f"--options must be a JSON object of TrainSettings values, not {type(overrides).__name__}")
    values = recipe_values(recipe, overrides)
    known = {f.name for f in dataclasses.fields(TrainSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"unknown training option(s): {', '.join(unknown)}")
    values.update(model=model, seed=seed, device=device)
    return values


def weights_value(weights: str | None, sha256: str | None) -> str | dict | None:
    """``--weights`` (a keyword, path or URL; none is no weights) with ``--weights-sha256`` as the dict form."""
    if weights in (None, "none"):
        return None
    return {"url": weights, "sha256": sha256} if sha256 else weights


def between_0_and_1(name: str, value: float) -> None:
    """One line naming the option when a declared stage's share is not strictly between 0 and 1."""
    if not 0 < value < 1:
        raise UserError(f"{name} must be between 0 and 1 (exclusive), got {value}")


def json_object(name: str, text: str) -> dict:
    """The value of an option that holds a JSON object; anything else is refused in one line naming ``name``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{name} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UserError(f"{name} must be a JSON object, not {type(value).__name__}")
    return value
