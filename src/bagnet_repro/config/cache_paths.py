"""The per-machine cache (downloaded weights and data sets), in one place.

Torch-free: the Snakefile plans the feature-amount downloads with it, the weights code fetches into it.
"""

from __future__ import annotations

import os
from pathlib import Path

from .environment import folder

CACHE_ENV = "BAGNET_REPRO_CACHE"


def _cache_home() -> Path:
    return Path.home() / ".cache" / "bagnet-repro"


def weights_cache(override: str | os.PathLike | None = None) -> Path:
    """The weights cache: the argument, else $BAGNET_REPRO_CACHE itself, else ~/.cache/bagnet-repro/weights."""
    if override:
        return Path(override).expanduser()
    return folder(CACHE_ENV) or _cache_home() / "weights"


def datasets_cache(override: str | os.PathLike | None = None) -> Path:
    """torchvision's data sets: the argument, else $BAGNET_REPRO_CACHE/datasets or ~/.cache/bagnet-repro/datasets."""
    if override:
        return Path(override).expanduser()
    return (folder(CACHE_ENV) or _cache_home()) / "datasets"
