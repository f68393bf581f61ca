"""Pretrained weights: where each source lives, a per-machine cache, verified downloads, strict loading.

Sources (the ``weights`` argument of ``build_model`` and the ``weights.models`` config map; which model
offers which file is the one table of ``sources.py``):

- ``imagenet``: the original BagNet files on Bitbucket. Their names carry the first 8 hex digits of the
  file's sha256 (the torch.hub convention), which is what a download is checked against.
- ``pytorchcv``: the imgclsmob model zoo the report took its CNN baselines from; files are checked against
  the sha1 that the ``pytorchcv`` package records for each model.
- ``torchvision``: torchvision's own ImageNet weights (its weights enum and hash check).
- any other string: a local path, ``file://`` or ``http(s)://`` URL of a state dict (for example BagNet v2
  weights); an optional sha256 is checked when given.

Every file lands in the cache only after its checksum matches, so a corrupt download is never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import torch

from ..config.cache_paths import weights_cache
from ..data.download import check_digest, download
from ..errors import UserError
from ..files.torchfile import TorchFileError, read_torch_file
from .sources import BITBUCKET, IMGCLSMOB, weight_sources

KEYWORD_SOURCES = ("imagenet", "pytorchcv", "torchvision")


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """The weights cache (its one definition: cache_paths.weights_cache)."""
    return weights_cache(override)


@dataclass(frozen=True)
class WeightsSpec:
    """A parsed ``weights`` value: a keyword source, or a file location with an optional sha256."""

    source: str
    location: str | None = None
    sha256: str | None = None


def parse_weights(value: str | dict | None) -> WeightsSpec | None:
    """``None``/``"none"`` mean random init; a dict is ``{url|path: ..., sha256: ...}``."""
    if value is None or value == "none":
        return None
    if isinstance(value, dict):
        location = value.get("url") or value.get("path")
        if not location:
            raise UserError(f"weights entry {value!r} needs a 'url' or 'path'")
        return WeightsSpec("file", str(location), value.get("sha256"))
    if value in KEYWORD_SOURCES:
        return WeightsSpec(value)
    return WeightsSpec("file", str(value))


def bagnet_imagenet_file(model: str, cache: Path, base_url: str = BITBUCKET, sha256: str | None = None) -> Path:
    """The original ImageNet BagNet weights for ``model``, downloaded once into ``cache``.

    Checked against the sha256 prefix in the published file name unless a full ``sha256`` is given.
    """
    name = weight_sources(model).imagenet
    if name is None:
        raise UserError(f"no published ImageNet weights for {model}; give a path or URL to a state dict")
    target = cache / "bagnet" / name
    expected = sha256 or name.split("-")[-1].split(".")[0]
    if not target.is_file():
        download(base_url + name, target, sha256=expected)
    return target


def pytorchcv_file(model: str, cache: Path, repo_url: str = IMGCLSMOB, sha1: str | None = None) -> Path:
    """The imgclsmob weights of ``model`` (pytorchcv's name), downloaded once and checked against its sha1."""
    from pytorchcv.models.common.model_store import get_model_name_suffix_data

    try:
        error, recorded_sha1, release = get_model_name_suffix_data(model)
    except ValueError as exc:
        raise UserError(f"pytorchcv has no pretrained weights for {model}") from exc
    sha1 = (sha1 or recorded_sha1).lower()
    name = f"{model}-{error}-{recorded_sha1[:8]}.pth"
    target = cache / "pytorchcv" / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        archive = download(
            f"{repo_url}/releases/download/{release}/{name}.zip",
            Path(tmp) / f"{name}.zip",
            sha256=None,
            announce_unverified=False,
        )
        with zipfile.ZipFile(archive) as bundle:
            if name not in bundle.namelist():
                raise UserError(f"{archive.name} does not contain {name}")
            bundle.extract(name, tmp)
        extracted = Path(tmp) / name
        check_digest(extracted, sha1, f"pytorchcv weights {name}", "sha1")
        os.replace(extracted, target)
    return target


def file_weights(spec: WeightsSpec, cache: Path) -> Path:
    """A local state-dict file as is, or a URL downloaded once into the cache (by URL and name)."""
    location = spec.location or ""
    if "://" not in location or location.startswith("file://"):
        path = Path(location[len("file://") :] if location.startswith("file://") else location).expanduser()
        if not path.is_file():
            raise UserError(f"weights file not found: {path}")
        check_digest(path, spec.sha256, path)
        return path
    url_digest = hashlib.sha256(location.encode()).hexdigest()[:12]
    name = PurePosixPath(urlsplit(location).path).name or "weights.pt"
    target = cache / "url" / url_digest / name
    if not target.is_file():
        download(location, target, sha256=spec.sha256)
    return target


def recorded_file(record: str | os.PathLike, model: str, weights: str) -> Path:
    """The weights file that fetch-weights verified for ``model`` and named in its ``record`` (JSON).

    A job given the record loads that file instead of looking the source up again, so what it runs with is
    the input the workflow declared; a file moved or deleted since (a cleared cache) is one line, never a
    silent second download, and a changed file is refused by the recorded sha256."""
    try:
        data = json.loads(Path(record).read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the weights record {record}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("file"), str) or not isinstance(data.get("sha256"), str):
        raise UserError(f"{record} is not a weights record of fetch-weights (it names no file and sha256)")
    if data.get("model") != model or data.get("weights") != weights:
        raise UserError(
            f"{record} records the weights {data.get('weights')!r} of {data.get('model')!r}, not {weights!r} of "
            f"{model!r}; delete it to fetch them again"
        )
    path = Path(data["file"])
    if not path.is_file():
        raise UserError(f"the weights file {path} named by {record} is gone; delete {record} to fetch it again")
    check_digest(path, data["sha256"], path)
    return path


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors only (``weights_only=True``); unwraps ``{"state_dict": ...}`` and DataParallel prefixes."""
    try:
        state = read_torch_file(path)
    except TorchFileError as exc:
        raise UserError(f"cannot read weights file {path}: {exc.reason}") from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"weights file {path} does not hold a state dict of tensors")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def load_strict(model: torch.nn.Module, state: dict[str, torch.Tensor], origin: str) -> None:
    """``load_state_dict(strict=True)`` with a one-line error naming the first mismatching keys."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shape = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or unexpected or shape:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shape)):
            if keys:
                parts.append(f"{len(keys)} {label} (e.g. {', '.join(keys[:3])})")
        raise UserError(f"weights from {origin} do not fit {type(model).__name__}: {'; '.join(parts)}")
    model.load_state_dict(state, strict=True)
