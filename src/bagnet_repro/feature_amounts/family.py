"""The VGG family of the layer-wise feature-amount study (Mundt et al., 2018): a fixed total of features
shifted between layers by a skew-normal profile over the layer index.

The uniform network is VGG-D (depth 16) or its relatives: widths 2x64, 2x128, Lx256, 2Lx512 (L = (depth-7)/3;
other depths are refused, see config/vgg_depths.py) and two hidden fully connected widths (512 at <= 100 px, else 4096).
A variant keeps the total T of those widths and gives layer i the share of a skew-normal density (location
xi, scale omega, shape alpha) that falls on [i, i+1): the density is sampled every 0.01 from i to i + 0.99 and
integrated by the trapezoid rule, as the reference does, so that the family (and its model ids) is the
reference's. Variants are dropped when the scale is 0, when less than 95% of the density falls on the layers,
or when a layer would get fewer than 2 features.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..config.datasets import FEATURE_AMOUNT_IMAGE_SIZE
from ..config.vgg_depths import layers_per_deep_block

LOCATION_STEP = 1.0
SCALES = np.arange(0.0, 5.5 + 0.5, 0.5)
SHAPES = np.arange(-40.0, 40.0 + 4.0, 4.0)
MIN_AREA = 0.95
MIN_LAYER_FEATURES = 2
SAMPLE_STEP = 0.01
FC_LAYERS = 2


@dataclass(frozen=True)
class Variant:
    """One network of the family: its id (the reference's loop order), profile and per-layer widths."""

    model_id: int | str  # the reference's id, or "uniform"
    location: float
    scale: float
    shape: float
    features: tuple[int, ...]  # conv layers, then the two hidden fully connected widths


def layers_per_block(depth: int) -> int:
    """L of the three deep VGG blocks (256 x L, 512 x L, 512 x L); depths other than 7 + 3L are refused."""
    return layers_per_deep_block(depth)


def uniform_features(depth: int = 16, image_size: int = FEATURE_AMOUNT_IMAGE_SIZE) -> tuple[int, ...]:
    """The VGG widths of ``depth`` (VGG-D for 16): conv layers, then the two hidden FC widths."""
    per_block = layers_per_block(depth)
    fc = 512 if image_size <= 100 else 4096
    return tuple([64] * 2 + [128] * 2 + [256] * per_block + [512] * (2 * per_block) + [fc] * FC_LAYERS)


# math.erf element-wise rather than scipy.special.erf (equal to 1e-15): the workflow computes the family while
# it plans, where only Snakemake (with numpy) may be installed.
def _erf(x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(math.erf, np.ravel(x)), float, count=np.size(x)).reshape(np.shape(x))


def skew_normal_pdf(x: np.ndarray, location: float, scale: float, shape: float) -> np.ndarray:
    z = (x - location) / scale
    density = np.exp(-0.5 * z * z) / (scale * math.sqrt(2 * math.pi))
    return 2 * density * 0.5 * (1 + _erf(shape * z / math.sqrt(2)))


def layer_shares(layers: int, location: float, scale: float, shape: float) -> np.ndarray:
    """The density's mass on each layer [i, i + 0.99], by the trapezoid rule on the 0.01 grid."""
    x = np.arange(0, layers, SAMPLE_STEP)
    per_layer = len(x) // layers
    density = skew_normal_pdf(x, location, scale, shape).reshape(layers, per_layer)
    return np.trapezoid(density, dx=SAMPLE_STEP, axis=1)


def variants(depth: int = 16, image_size: int = FEATURE_AMOUNT_IMAGE_SIZE) -> list[Variant]:
    """Every valid variant, in the reference's order (location, then scale, then shape) with its id."""
    return list(_variants(depth, image_size))


@functools.cache  # seconds per family (math.erf element by element); asked for again by variant and select_ids
def _variants(depth: int, image_size: int) -> tuple[Variant, ...]:
    total = sum(uniform_features(depth, image_size))
    layers = len(uniform_features(depth, image_size))
    locations = np.arange(0, layers + LOCATION_STEP, LOCATION_STEP)
    found: list = []
    for location in locations:
        for scale in SCALES:
            for shape in SHAPES:
                if scale == 0:
                    continue  # the density is not defined
                shares = layer_shares(layers, location, scale, shape)
                if shares.sum() <= MIN_AREA:
                    continue  # too much of the profile falls outside the network
                features = np.ceil(shares * total).astype(int)
                if features.min() < MIN_LAYER_FEATURES:
                    continue
                found.append(
                    Variant(len(found), float(location), float(scale), float(shape), tuple(int(f) for f in features))
                )
    return tuple(found)


def profile_moments(features: tuple[int, ...]) -> tuple[float, float, float]:
    """Mean, variance and skewness of the features over the layer index (the study's table columns)."""
    weights = np.asarray(features, dtype=float)
    index = np.arange(len(weights), dtype=float)
    weights = weights / weights.sum()
    mean = float((weights * index).sum())
    variance = float((weights * (index - mean) ** 2).sum())
    skew = float((weights * (index - mean) ** 3).sum() / variance**1.5) if variance > 0 else 0.0
    return mean, variance, skew


UNIFORM = "uniform"  # the unchanged VGG network (VGG-D at depth 16), for comparison


def variant(key: str | int, depth: int = 16, image_size: int = FEATURE_AMOUNT_IMAGE_SIZE) -> Variant:
    """The variant with model id ``key``, or the uniform VGG network for ``"uniform"``."""
    if str(key) == UNIFORM:
        return Variant(UNIFORM, math.nan, math.nan, math.nan, uniform_features(depth, image_size))
    family = variants(depth, image_size)
    try:
        index = int(key)
    except ValueError:
        index = -1
    if not 0 <= index < len(family):
        raise ValueError(f"no variant {key!r} at depth {depth}: ids are 0..{len(family) - 1} or {UNIFORM!r}")
    return family[index]


def select_ids(depth: int, which: str | list | dict, image_size: int = FEATURE_AMOUNT_IMAGE_SIZE) -> list[int]:
    """The model ids a config selects: ``all``, a list of ids, or ``{every: k}`` (ids 0, k, 2k, ...)."""
    count = len(variants(depth, image_size))
    if which == "all":
        return list(range(count))
    if isinstance(which, dict):
        return list(range(0, count, int(which["every"])))
    bad = [i for i in which if not 0 <= int(i) < count]
    if bad:
        raise ValueError(f"no variant {bad[0]} at depth {depth}: ids are 0..{count - 1}")
    return [int(i) for i in which]
