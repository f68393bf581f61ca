"""What ``explain`` holds for one image, so that its memory budget is named, and a too small one refused, from
the image's size alone, before any forward: the image's copies, the heatmaps kept and the network's working
copies (held for the whole image), plus the activations of the smallest pass each method makes (one tile of
the image-level pass, one band of the exact method), and the figure drawn at the end. What is left of the budget
after the held part is what the passes are given."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..models.bagnet import BagNet
from .banded import smallest_tile_bytes
from .patches import band_bytes, exact_patch_size

MB = 2**20
FLOAT = 4
# The figure and the arrays written at the end of each image: matplotlib's modules (32 MB measured, imported at
# the first figure) and its panels at most 1024 px a side. Without it a 1200 x 900 image at --memory-mb 320 peaked
# at 307.5 MB, the held part about 20 MB above its estimate (benchmarks/results/explain_small_budget_*.json).
DRAWING_MB = 48


@dataclass(frozen=True)
class Budget:
    held_mb: float  # the image's copies and the kept heatmaps, for the whole image
    smallest_pass_mb: float  # one tile, or one band of the exact method

    @property
    def needed_mb(self) -> int:
        return math.ceil(self.held_mb + self.smallest_pass_mb)

    def for_passes(self, memory_mb: float) -> float:
        """The part of ``memory_mb`` the passes' activations may take."""
        return memory_mb - self.held_mb


def image_budget(model: BagNet, height: int, width: int, method: str, classes: int) -> Budget:
    """The budget a height x width image needs with ``method``, keeping ``classes`` heatmaps. The width of the
    exact method's rows is the longer side (the loader may turn an image by its EXIF orientation)."""
    pixels = height * width
    copies = 2  # the loaded image and its normalized batch
    held = copies * 3 * pixels * FLOAT + 2 * classes * pixels * FLOAT  # heatmaps, and the stack they come from
    # The network's working copies: the weights, and the reordered copy a CPU convolution makes of its weights
    # (kept in the heap below compute/allocator.py's threshold) with oneDNN's small per-shape cache (about 2 MB a
    # shape): counted as twice the weights, an upper bound of what was measured.
    held += 2 * sum(p.numel() * p.element_size() for p in model.parameters())
    held += DRAWING_MB * MB
    smallest = smallest_tile_bytes(model, height, width)
    patch = exact_patch_size(model)
    if method == "fast" and patch is not None:
        side = max(height, width)
        held += 3 * (height + patch - 1) * (width + patch - 1) * FLOAT  # the padded copy the bands read
        smallest = max(smallest, band_bytes(side, patch))
    return Budget(held / MB, smallest / MB)
