"""The report's heatmap figures (Figures 2-4 of the report) for any run: any number of BagNets and images.

Drawn from the ``.npz`` of ``bagnet-repro heatmaps`` (its keys: images, classes, labels, models, scrambled,
scramble_grid and ``<model>__heatmaps`` / ``__logits`` / ``__scrambled``). Each function returns the figure, so
the notebook saves it and the tests render it; numpy and matplotlib only.
"""

from __future__ import annotations

import numpy as np

from .plotting import draw_heatmap, draw_image


def classes_figure(data, main_model: str, classes_shown: int):
    """Per image (rows): the image, then the patch logits of its most likely classes under ``main_model``."""
    import matplotlib.pyplot as plt

    images, classes, labels = data["images"], [str(c) for c in data["classes"]], [str(c) for c in data["labels"]]
    heatmaps, logits = data[f"{main_model}__heatmaps"], data[f"{main_model}__logits"]
    shown = min(classes_shown, len(classes))
    fig, axes = plt.subplots(
        len(images),
        shown + 1,
        figsize=(1.6 * (shown + 1), 1.7 * len(images) + 0.4),
        squeeze=False,
        constrained_layout=True,
    )
    for row, image in enumerate(images):
        top = np.argsort(-logits[row])[:shown]
        limit = np.abs(heatmaps[row, top]).max()
        draw_image(axes[row, 0], image, f"true: {labels[row]}")
        for column, k in enumerate(top, start=1):
            mappable = draw_heatmap(
                axes[row, column], heatmaps[row, k], image, limit, f"{classes[k]} ({logits[row, k]:.1f})"
            )
        fig.colorbar(mappable, ax=axes[row, -1], shrink=0.8, label="patch logit")
    fig.suptitle(f"{main_model}: patch logits of the most likely classes")
    return fig


def models_figure(data):
    """Per image (rows): the image, then the true class's patch logits under each BagNet of the run."""
    import matplotlib.pyplot as plt

    images, classes, labels = data["images"], [str(c) for c in data["classes"]], [str(c) for c in data["labels"]]
    models = [str(m) for m in data["models"]]
    fig, axes = plt.subplots(
        len(images),
        len(models) + 1,
        figsize=(1.6 * (len(models) + 1), 1.7 * len(images) + 0.4),
        squeeze=False,
        constrained_layout=True,
    )
    for row, image in enumerate(images):
        truth = classes.index(labels[row])
        draw_image(axes[row, 0], image, f"true: {labels[row]}")
        for column, name in enumerate(models, start=1):
            heatmap = data[f"{name}__heatmaps"][row, truth]
            mappable = draw_heatmap(axes[row, column], heatmap, image, np.abs(heatmap).max(), name)
            fig.colorbar(mappable, ax=axes[row, column], shrink=0.7)
    fig.suptitle("patch logit of the true class (each heatmap on its own symmetric scale)")
    return fig


def scrambled_figure(data, main_model: str):
    """The first image and its scrambled version, each with ``main_model``'s heatmap of the true class."""
    import matplotlib.pyplot as plt

    images, classes, labels = data["images"], [str(c) for c in data["classes"]], [str(c) for c in data["labels"]]
    grid = int(data["scramble_grid"])
    truth = classes.index(labels[0])
    original = data[f"{main_model}__heatmaps"][0, truth]
    scrambled_map = data[f"{main_model}__scrambled"][0, truth]
    limit = max(np.abs(original).max(), np.abs(scrambled_map).max())
    scrambled_image = data["scrambled"][0]
    fig, axes = plt.subplots(1, 4, figsize=(7.2, 2.2), constrained_layout=True)
    draw_image(axes[0], images[0], f"image ({labels[0]})")
    draw_image(axes[1], scrambled_image, f"scrambled ({grid * grid} pieces)")
    draw_heatmap(axes[2], original, images[0], limit, f"{main_model}, image")
    mappable = draw_heatmap(axes[3], scrambled_map, scrambled_image, limit, f"{main_model}, scrambled")
    fig.colorbar(mappable, ax=axes[3], shrink=0.8, label=f"logit of {labels[0]}")
    return fig
