"""Random crops and horizontal flips of a whole batch at once, on the device that holds the batch.

``crop_flip`` is a random resized crop (bilinear); ``pad_crop_flip`` is CIFAR's classic augmentation, a
random crop of the input's size from the image zero-padded by 4 pixels on every side, and a flip: integer
shifts of the stored pixels, as the feature-amount study's authors trained CIFAR-10/100.

One ``affine_grid`` + ``grid_sample`` per batch replaces a per-image pipeline on the host, so a GPU never
waits for augmentation. The crop boxes are drawn on the CPU from a generator seeded by (seed, epoch, step):
an epoch's augmentation is the same after a resume, with no random state to save.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..compute.device import to_device

# Fraction of the image's area a crop keeps, and its aspect range: milder than ImageNet's (0.08, 1), because
# the cached images are already the network's input size and a scene is mostly identified by its layout.
CROP_SCALE = (0.25, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)


def step_generator(seed: int, epoch: int, step: int) -> torch.Generator:
    """A CPU generator that depends on (seed, epoch, step) alone."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 1_000_003 + step)


def crop_flip_matrices(
    batch: int, generator: torch.Generator, scale: tuple = CROP_SCALE, ratio: tuple = CROP_RATIO
) -> torch.Tensor:
    """``batch`` x 2 x 3 affine matrices taking the output grid to a random box of the input (in
    ``affine_grid``'s [-1, 1] coordinates), mirrored left-right with probability 0.5."""
    area = torch.empty(batch).uniform_(*scale, generator=generator)
    aspect = torch.empty(batch).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=generator).exp()
    width = (area * aspect).sqrt().clamp(max=1.0)  # box width as a fraction of the image width
    height = (area / aspect).sqrt().clamp(max=1.0)
    centre_x = (torch.rand(batch, generator=generator) * 2 - 1) * (1 - width)  # the box stays inside
    centre_y = (torch.rand(batch, generator=generator) * 2 - 1) * (1 - height)
    mirror = torch.where(torch.rand(batch, generator=generator) < 0.5, -1.0, 1.0)
    matrices = torch.zeros(batch, 2, 3)
    matrices[:, 0, 0] = width * mirror
    matrices[:, 0, 2] = centre_x
    matrices[:, 1, 1] = height
    matrices[:, 1, 2] = centre_y
    return matrices


def crop_flip(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Resample a float N x C x H x W batch through ``matrices`` (bilinear, same size out)."""
    matrices = to_device(matrices, images.device).to(images.dtype)  # pinned: no wait on a GPU
    grid = F.affine_grid(matrices, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


PAD = 4  # pixels of zero padding on every side (CIFAR's 32-px crop from 40 px)


def pad_crop_flip(images: torch.Tensor, generator: torch.Generator, padding: int = PAD) -> torch.Tensor:
    """Each image of an N x C x H x W batch (any dtype; the stored pixels, before normalization, so the
    padding is black) shifted by a random offset of its zero-padded copy and mirrored with probability 0.5.

    The offsets and flips are drawn on the CPU from ``generator``; one indexing gather makes the batch."""
    batch, _, height, width = images.shape
    shift_y = torch.randint(0, 2 * padding + 1, (batch,), generator=generator)
    shift_x = torch.randint(0, 2 * padding + 1, (batch,), generator=generator)
    mirror = torch.rand(batch, generator=generator) < 0.5
    rows = shift_y[:, None] + torch.arange(height)  # N x H rows of the padded image
    columns = shift_x[:, None] + torch.arange(width)
    columns = torch.where(mirror[:, None], columns.flip(1), columns)
    padded = F.pad(images, (padding, padding, padding, padding))
    index = [
        to_device(t, images.device) for t in (torch.arange(batch)[:, None, None], rows[:, :, None], columns[:, None, :])
    ]
    return padded.permute(0, 2, 3, 1)[index[0], index[1], index[2]].permute(0, 3, 1, 2).contiguous()
