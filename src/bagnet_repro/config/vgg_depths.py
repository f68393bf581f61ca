"""The depths the VGG family has, and the one-line refusal of the others.

A network of the family has 2 + 2 conv layers in its first two blocks, L in each of the three deep ones and
three fully connected layers, so its depth is 7 + 3L: 10, 13, 16 (VGG-D), 19, 22, ... The authors' network
refuses other depths; rounding L down instead would file a depth-10 network's results under depth 11.
Import-free, so that the config check can run it at start-up.
"""

from __future__ import annotations

MIN_DEPTH = 10  # L = 1
SHOWN = 5  # valid depths named in the refusal, at least


def is_vgg_depth(depth) -> bool:
    return isinstance(depth, int) and not isinstance(depth, bool) and depth >= MIN_DEPTH and (depth - 7) % 3 == 0


def layers_per_deep_block(depth: int) -> int:
    """L of the three deep blocks (256 x L, 512 x L, 512 x L); a ValueError for a depth the family lacks."""
    problem = depth_problem(depth)
    if problem:
        raise ValueError(problem)
    return (depth - 7) // 3


def depth_problem(depth) -> str | None:
    """Why ``depth`` is not a depth of the family (one line naming the valid ones), or None."""
    if is_vgg_depth(depth):
        return None
    largest = max(MIN_DEPTH + 3 * (SHOWN - 1), depth + 3 if isinstance(depth, int) else 0)
    valid = ", ".join(str(d) for d in range(MIN_DEPTH, largest + 1, 3))
    return f"{depth!r} is not a depth of the VGG family (7 + 3L, L >= 1); choose one of {valid}, ..."
