"""A network's name as it appears in file and folder names: the one place that maps it.

Display names such as ``torchvision:resnet18`` hold a colon, which Windows, macOS's Finder, zip archivers and
some cluster file systems refuse or rewrite. Every output path uses the file-name form instead
(``torchvision-resnet18``); tables, figures and text keep the display name. The form is reversible and cannot
collide with a built-in name: those are lower-case letters, digits and underscores, never a hyphen.
"""

from __future__ import annotations

from .networks import TORCHVISION_PREFIX

FILE_PREFIX = "torchvision-"
# Characters no output path may hold (Windows' reserved set, which also covers what Finder and zip mangle).
UNPORTABLE = set('<>:"\\|?*')


def model_file_name(model: str) -> str:
    """``torchvision:resnet18`` -> ``torchvision-resnet18``; every other name unchanged."""
    if model.startswith(TORCHVISION_PREFIX):
        return FILE_PREFIX + model[len(TORCHVISION_PREFIX) :]
    return model


def model_from_file_name(stem: str) -> str:
    """The inverse of :func:`model_file_name`."""
    if stem.startswith(FILE_PREFIX):
        return TORCHVISION_PREFIX + stem[len(FILE_PREFIX) :]
    return stem


def model_file_names(models: list[str]) -> list[str]:
    return [model_file_name(model) for model in models]


def unportable_characters(path: str) -> set[str]:
    """The characters of ``path`` that some system or archiver refuses in a file name."""
    return set(path) & UNPORTABLE
