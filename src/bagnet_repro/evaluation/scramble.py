"""The scrambling test: cut an image into a g x g grid (g x g pieces; the report's 4 x 4 = 16) and permute them.

The permutation of each image is drawn from a generator seeded by (global seed, image key), so every
model is tested on exactly the same scrambled images, whatever the batch order.
"""

from __future__ import annotations

import hashlib

import torch

from ..errors import UserError


def image_permutation(key: str, seed: int, pieces: int) -> torch.Tensor:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
    return torch.randperm(pieces, generator=generator)


def scramble(image: torch.Tensor, permutation: torch.Tensor, grid: int) -> torch.Tensor:
    """Return ``image`` (C x H x W) with its ``grid`` x ``grid`` pieces rearranged by ``permutation``.

    Piece ``k`` of the output (row-major) is piece ``permutation[k]`` of the input.
    """
    channels, height, width = image.shape
    if height % grid or width % grid:
        raise UserError(f"image size {height}x{width} is not divisible by the scramble grid {grid}")
    ph, pw = height // grid, width // grid
    pieces = image.reshape(channels, grid, ph, grid, pw).permute(1, 3, 0, 2, 4).reshape(grid * grid, channels, ph, pw)
    pieces = pieces[permutation]
    return pieces.reshape(grid, grid, channels, ph, pw).permute(2, 0, 3, 1, 4).reshape(channels, height, width)


def scramble_batch(images: torch.Tensor, keys: list[str], seed: int, grid: int) -> torch.Tensor:
    return torch.stack(
        [scramble(img, image_permutation(k, seed, grid * grid), grid) for img, k in zip(images, keys, strict=True)]
    )
