"""A BagNet's own forward on an image of any size within a memory budget, by tiles of its feature map.

A whole 5000 x 5000 image through a BagNet needs about 25 GB of activations at the first layers. Every
location of the final feature map depends only on the pixels of its receptive field, and the network's total
stride is 8, so a window of the image that starts on a multiple of 8 and reaches a receptive field beyond the
tile gives that tile's features exactly, padded (v2) or not. The image-level logits are the head on the
mean of all features (the network's average pool), so they too come out of the tiles, and so does the coarse
logit map that the ``upsampled`` method resizes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import nn
from tqdm.auto import tqdm

from ..compute.allocator import fix_mmap_threshold, give_back_freed
from ..errors import UserError
from ..models.bagnet import BagNet

STRIDE = 8  # the BagNets' strides are (2, 2, 2, 1)
BYTES_PER_PIXEL = 2048  # activations in flight per input pixel of one forward (about 1.1 kB measured, doubled)
# Tiles whose activations reach this are followed by a trim of the heap (about 10 ms, under 1% of such a tile's
# forward); smaller ones keep few freed pages and would pay the trim at every tile.
TRIM_AFTER_BYTES = 64 * 2**20


def smallest_side(model: BagNet) -> int:
    """The smallest image side ``model`` accepts: an original BagNet's receptive field (it pads nothing), else
    (v2) the smallest side its padded stem and strided layers still reduce to one location."""
    if not model.config.padded:
        return model.config.receptive_field
    return next(side for side in range(1, STRIDE * 64) if feature_shape(model, side, side) is not None)


def feature_shape(model: BagNet, height: int, width: int) -> tuple[int, int] | None:
    """The (h, w) of the feature map of a height x width image, from a copy of the network on the meta device
    (shapes only: no memory, no arithmetic); None when the image is too small for its layers."""
    with torch.device("meta"):
        shapes_only = BagNet(model.config, num_classes=1).eval()
        probe = torch.empty(1, 3, height, width)
    try:
        with torch.no_grad():
            rows, columns = shapes_only.features(probe).shape[-2:]
            return rows, columns
    except RuntimeError:  # "kernel size can't be greater than actual input size" and the like
        return None


def _halo(model: BagNet) -> int:
    """Input rows beyond a tile that its features depend on (a receptive field, on the stride's grid)."""
    return STRIDE * math.ceil(model.config.receptive_field / STRIDE) + STRIDE


def _window_bytes(model: BagNet, tile: int) -> int:
    """The activations of one square tile of ``tile`` feature locations a side, its window with the halo."""
    return (STRIDE * tile + 2 * _halo(model)) ** 2 * BYTES_PER_PIXEL


def smallest_tile_bytes(model: BagNet, height: int, width: int) -> int:
    """The activations of the smallest pass over a height x width image: one tile of one feature location
    (its window a receptive field wide), or the whole image when that is smaller."""
    return min(_window_bytes(model, 1), height * width * BYTES_PER_PIXEL)


def _tile(model: BagNet, height: int, width: int, memory_mb: float) -> int:
    """Feature locations per side of a square tile whose window fits ``memory_mb``; refused when none does."""
    side = math.isqrt(int(memory_mb * 2**20 // BYTES_PER_PIXEL))
    tile = (side - 2 * _halo(model)) // STRIDE
    if tile < 1:
        needed = _window_bytes(model, 1) / 2**20
        raise UserError(
            f"--memory-mb {memory_mb:g} is too small for one tile of {model.config.name}; it needs at "
            f"least {math.ceil(needed)}"
        )
    return tile


def progress_steps(model: BagNet) -> list[nn.Module]:
    """The stem's convolutions and every residual block of ``model``'s features, in order: a tile's forward is
    shown step by step, so that the bar moves within seconds even where one tile takes a minute (a large
    window on a CPU), at no cost to the tile's size."""
    stem = [conv for conv in (model.conv1, model.conv2) if conv is not None]
    return stem + [block for layer in (model.layer1, model.layer2, model.layer3, model.layer4) for block in layer]


@contextlib.contextmanager
def _tile_bar(model: BagNet, count: int, what: str, progress: bool) -> Iterator:
    """A bar over ``count`` tiles, counted in steps of each tile's forward (``progress_steps``)."""
    steps = progress_steps(model)
    shown = progress and count >= 2
    with tqdm(total=count * len(steps), desc=f"{what} ({count} tiles)", unit="step", disable=not shown,
              mininterval=1.0) as bar:  # fmt: skip

        def one_step(*_) -> None:  # a forward hook that returns None leaves the step's output as it is
            bar.update(1)

        handles = [step.register_forward_hook(one_step) for step in steps] if shown else []
        try:
            yield bar
        finally:
            for handle in handles:
                handle.remove()


def feature_tiles(
    model: BagNet, image: torch.Tensor, memory_mb: float, what: str = "tiles", progress: bool = True
) -> Iterator[tuple[slice, slice, torch.Tensor]]:
    """Yield (row slice, column slice, features) covering ``model.features(image)`` (1 x 3 x H x W) tile by tile,
    with a progress bar named ``what`` when there is more than one tile."""
    height, width = image.shape[-2:]
    shape = feature_shape(model, height, width)
    if shape is None:
        raise UserError(f"a {height} x {width} image is too small for {model.config.name}")
    if height * width * BYTES_PER_PIXEL <= memory_mb * 2**20:
        yield slice(0, shape[0]), slice(0, shape[1]), model.features(image)
        return
    tile, halo = _tile(model, height, width, memory_mb), _halo(model)
    fix_mmap_threshold(max(p.numel() * p.element_size() for p in model.parameters()))
    with _tile_bar(model, math.ceil(shape[0] / tile) * math.ceil(shape[1] / tile), what, progress):
        yield from _tiles(model, image, shape, tile, halo)


def _tiles(
    model: BagNet, image: torch.Tensor, shape: tuple[int, int], tile: int, halo: int
) -> Iterator[tuple[slice, slice, torch.Tensor]]:
    height, width = image.shape[-2:]
    trim = _window_bytes(model, tile) >= TRIM_AFTER_BYTES
    for top in range(0, shape[0], tile):
        rows = slice(top, min(shape[0], top + tile))
        for left in range(0, shape[1], tile):
            columns = slice(left, min(shape[1], left + tile))
            first_row, first_column = max(0, STRIDE * top - halo), max(0, STRIDE * left - halo)
            window = image[
                ...,
                first_row : min(height, STRIDE * rows.stop + halo),
                first_column : min(width, STRIDE * columns.stop + halo),
            ]
            features = model.features(window)
            row0, column0 = top - first_row // STRIDE, left - first_column // STRIDE
            yield rows, columns, features[..., row0 : row0 + rows.stop - top, column0 : column0 + columns.stop - left]
            del window, features
            if trim:
                give_back_freed()


@torch.no_grad()
def banded_logits(model: BagNet, image: torch.Tensor, memory_mb: float, progress: bool = True) -> torch.Tensor:
    """``model(image)[0]`` for one image, computed tile by tile within ``memory_mb``."""
    height, width = image.shape[-2:]
    if height * width * BYTES_PER_PIXEL <= memory_mb * 2**20:
        return model(image)[0]  # fits: the network's own forward, the very same numbers
    total: torch.Tensor | None = None
    count = 0
    for _, _, features in feature_tiles(model, image, memory_mb, "image logits", progress):
        part = features.sum(dim=(0, 2, 3), dtype=torch.float64)
        total = part if total is None else total + part
        count += features.shape[-2] * features.shape[-1]
    assert total is not None, "feature_tiles yields at least one tile (or refuses the image)"
    pooled = (total / count).to(image.dtype)[None]
    return model.fc(pooled)[0]


@torch.no_grad()
def coarse_logit_map(
    model: BagNet, image: torch.Tensor, classes: list[int], memory_mb: float, progress: bool = True
) -> torch.Tensor:
    """``model.logit_map(image)[0, classes]`` (the head at every location), tile by tile within ``memory_mb``."""
    out: torch.Tensor | None = None
    for rows, columns, features in feature_tiles(model, image, memory_mb, "coarse logit map", progress):
        logits = model.fc(features.permute(0, 2, 3, 1))[0].permute(2, 0, 1)[classes]
        if out is None:
            shape = feature_shape(model, *image.shape[-2:])
            assert shape is not None, "feature_tiles has already refused an image too small for the network"
            out = image.new_empty(len(classes), *shape)
        out[:, rows, columns] = logits
    assert out is not None, "feature_tiles yields at least one tile (or refuses the image)"
    return out
