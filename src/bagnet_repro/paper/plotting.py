"""Drawing a patch heatmap over its image: shared by the heatmaps notebook and ``bagnet-repro explain``.

numpy and matplotlib only (no torch), so the report's notebooks can import it.
"""

from __future__ import annotations

import textwrap
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


def _texts(fig, renderer) -> list:
    """The titles and labels of ``fig`` that are drawn, with their boxes: the figure's own texts, each axes'
    titles and texts, and its axis labels where the axis is shown (``set_axis_off`` leaves them undrawn)."""
    texts = list(fig.texts)
    for axes in fig.axes:
        texts += [axes.title, axes._left_title, axes._right_title, *axes.texts]
        if axes.axison:
            texts += [axes.xaxis.label, axes.yaxis.label]
    found = []
    for text in texts:
        if text.get_visible() and text.get_text().strip():
            box = text.get_window_extent(renderer)
            if np.isfinite(box.get_points()).all():
                found.append((text, box))
    return found


def text_outside_canvas(fig, tolerance: float = 1.0) -> list[str]:
    """What of ``fig`` reaches past its canvas once drawn: a figure text by its words, an axes (with its title,
    tick and axis labels: matplotlib's tight box of what it draws) by its title or number."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    boxes = [(text.get_text(), text.get_window_extent(renderer)) for text in fig.texts if text.get_text().strip()]
    boxes += [
        (axes.get_title() or f"axes {index}", axes.get_tightbbox(renderer)) for index, axes in enumerate(fig.axes)
    ]
    return [
        name
        for name, box in boxes
        if box is not None
        and (
            box.x0 < canvas.x0 - tolerance
            or box.y0 < canvas.y0 - tolerance
            or box.x1 > canvas.x1 + tolerance
            or box.y1 > canvas.y1 + tolerance
        )
    ]


def fit_text(fig, rounds: int = 5) -> None:
    """Wrap every title or label longer than its room onto more lines: an axes' title to the axes' width, any
    other text to the canvas (its height, for an upright label), so a narrow figure (one network, one class)
    never cuts a title off."""
    for _ in range(rounds):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        changed = False
        for text, box in _texts(fig, renderer):
            axes = text.axes
            upright = abs(text.get_rotation() % 180 - 90) < 1
            if axes is not None and text is axes.title:
                room = axes.get_window_extent(renderer).width
            else:
                room = (fig.bbox.height if upright else fig.bbox.width) * 0.96
            length = box.height if upright else box.width
            if length <= room:
                continue
            longest = max(len(line) for line in text.get_text().split("\n"))
            content = text.get_text().replace("\n", " ")
            wrapped = textwrap.fill(content, max(6, int(longest * room / length * 0.95)))
            if wrapped != text.get_text():
                text.set_text(wrapped)
                changed = True
        if not changed:
            break
    # Constrained layout settles over a draw or two after a title changed its number of lines.
    fig.canvas.draw()


def save_figure(fig, pdf_path: str | Path, png_path: str | Path, dpi: int = 150) -> None:
    """Vector PDF (no creation date, so reruns give the same bytes) and a PNG, then close the figure. Titles
    wider than their room are wrapped first (``fit_text``)."""
    import matplotlib.pyplot as plt

    fit_text(fig)
    fig.savefig(pdf_path, metadata={"CreationDate": None})
    fig.savefig(png_path, dpi=dpi)
    plt.close(fig)
