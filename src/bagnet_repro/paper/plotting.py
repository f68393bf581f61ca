"""Drawing a patch heatmap over its image: shared by the heatmaps notebook and ``bagnet-repro explain``.

numpy and matplotlib only (no torch), so the report's notebooks can import it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def edges(image: np.ndarray) -> np.ndarray:
    """Edge strength of a 3 x H x W image (Sobel magnitude of its grey level), scaled to about 0..1."""
    grey = image.astype(float).mean(axis=0)
    padded = np.pad(grey, 1, mode="edge")
    gx = (padded[:-2, 2:] + 2 * padded[1:-1, 2:] + padded[2:, 2:]) - (
        padded[:-2, :-2] + 2 * padded[1:-1, :-2] + padded[2:, :-2]
    )
    gy = (padded[2:, :-2] + 2 * padded[2:, 1:-1] + padded[2:, 2:]) - (
        padded[:-2, :-2] + 2 * padded[:-2, 1:-1] + padded[:-2, 2:]
    )
    magnitude = np.hypot(gx, gy)
    return magnitude / (np.percentile(magnitude, 99) + 1e-12)


def draw_heatmap(ax, heatmap: np.ndarray, image: np.ndarray, limit: float, title: str):
    """The image's edges in grey, the heatmap over them on a diverging scale centred at zero."""
    from matplotlib.colors import TwoSlopeNorm

    limit = float(limit) or 1.0
    ax.imshow(1 - np.clip(edges(image), 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    shown = ax.imshow(
        heatmap, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -limit, limit), alpha=0.75, interpolation="nearest"
    )
    ax.set_title(title, fontsize=7)
    ax.set_axis_off()
    return shown


def draw_image(ax, image: np.ndarray, title: str) -> None:
    """A 3 x H x W uint8 image as it is."""
    ax.imshow(np.transpose(image, (1, 2, 0)), interpolation="nearest")
    ax.set_title(title, fontsize=7)
    ax.set_axis_off()


def save_figure(fig, pdf_path: str | Path, png_path: str | Path, dpi: int = 150) -> None:
    """Vector PDF (no creation date, so reruns give the same bytes) and a PNG, then close the figure."""
    import matplotlib.pyplot as plt

    fig.savefig(pdf_path, metadata={"CreationDate": None})
    fig.savefig(png_path, dpi=dpi)
    plt.close(fig)
