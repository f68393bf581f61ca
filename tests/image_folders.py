"""Image-folder data sets as a user has them, built from real image files of several formats, sizes and modes:
one sub-folder per class, pre-split (train/, test/, optionally val/) or one pool."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# Formats and sizes the images cycle through (suffix, PIL format, mode, width, height).
KINDS = (
    (".jpg", "JPEG", "RGB", 64, 48),
    (".png", "PNG", "RGB", 50, 50),
    (".bmp", "BMP", "RGB", 72, 40),
    (".png", "PNG", "L", 40, 60),
    (".jpeg", "JPEG", "L", 56, 56),
    (".tif", "TIFF", "RGB", 48, 64),
)


def class_image(class_index: int, number: int, kind: int) -> Image.Image:
    """A picture of class ``class_index``: stripes whose angle and colour tell the class apart, with noise."""
    suffix, _, mode, width, height = KINDS[kind % len(KINDS)]
    rng = np.random.default_rng(1000 * class_index + number)
    y, x = np.mgrid[0:height, 0:width]
    angle = np.pi * class_index / 5
    stripes = np.sin((x * np.cos(angle) + y * np.sin(angle)) / (2 + class_index))
    colour = np.array([(class_index * 83) % 256, (class_index * 151) % 256, (class_index * 47 + 90) % 256])
    pixels = 127 + 100 * stripes[..., None] * (colour / 255) + rng.normal(0, 12, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return image.convert(mode)


def write_images(folder: Path, class_index: int, count: int, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(start, start + count):
        suffix, image_format, *_ = KINDS[number % len(KINDS)]
        class_image(class_index, number, number).save(folder / f"img_{number:03d}{suffix}", image_format)


def pooled_folder(root: Path, classes: list[str], per_class: int) -> Path:
    """``root/<class>/`` with ``per_class`` images each: the workflow splits it."""
    for index, name in enumerate(classes):
        write_images(root / name, index, per_class)
    return root


def split_folder(root: Path, classes: list[str], counts: dict[str, int]) -> Path:
    """``root/<split>/<class>/`` with ``counts[split]`` images per class (e.g. {"train": 12, "test": 6})."""
    start = 0
    for split, count in counts.items():
        for index, name in enumerate(classes):
            write_images(root / split / name, index, count, start)
        start += count
    return root
