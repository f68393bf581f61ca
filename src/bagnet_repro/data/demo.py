"""A deterministic synthetic 15-class "scenes" dataset in the course layout, for the CPU demo and tests.

Each class is a local texture: a grating with its own orientation and spatial frequency (5 orientations x
3 frequencies), with random phase, contrast, noise and class-independent occluding blobs. A class is
therefore visible in every small patch, which is what a bag-of-local-features model can use, and it
survives scrambling into a few large pieces (the demo's 4 x 4 grid), so the demo's scrambling column shows
BagNets' robustness for real.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..config.classes import REPORT_CLASSES
from ..files.atomic import atomic_dir

ORIENTATIONS_DEG = (0.0, 36.0, 72.0, 108.0, 144.0)
FREQUENCIES = (0.08, 0.16, 0.28)  # cycles per pixel at the generated size


def texture_image(class_index: int, rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """One grayscale uint8 image of class ``class_index``."""
    theta = np.deg2rad(ORIENTATIONS_DEG[class_index % 5] + rng.uniform(-4, 4))
    freq = FREQUENCIES[class_index // 5] * rng.uniform(0.92, 1.08)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    phase = rng.uniform(0, 2 * np.pi)
    grating = np.sin(2 * np.pi * freq * (xx * np.cos(theta) + yy * np.sin(theta)) + phase)
    image = 0.5 + rng.uniform(0.3, 0.45) * grating + rng.uniform(-0.1, 0.1)
    for _ in range(rng.integers(1, 4)):  # class-independent "objects" that hide part of the texture
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.08, 0.2) * min(width, height)
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
        image[mask] = rng.uniform(0.1, 0.9)
    image += rng.normal(0, 0.05, size=image.shape)
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def make_demo_data(
    out: str | os.PathLike,
    train_per_class: int = 20,
    test_per_class: int = 12,
    width: int = 80,
    height: int = 64,
    seed: int = 0,
) -> Path:
    """Write ``out/train/<Class>/image_NNNN.jpg`` and ``out/test/<Class>/...`` (grayscale JPEG)."""
    out = Path(out)
    with atomic_dir(out) as tmp:
        for class_index, label in enumerate(REPORT_CLASSES):
            rng = np.random.default_rng([seed, class_index])
            counts = (("train", train_per_class), ("test", test_per_class))
            number = 0
            for split, count in counts:
                folder = tmp / split / label
                folder.mkdir(parents=True)
                for _ in range(count):
                    number += 1
                    pixels = texture_image(class_index, rng, width, height)
                    Image.fromarray(pixels, mode="L").save(folder / f"image_{number:04d}.jpg", quality=92)
    return out
