"""The heatmap figures for any run: any number of BagNets and images, every title and label inside the canvas
(a narrow figure of one network used to cut its title off)."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from bagnet_repro.paper import heatmap_figures as draw
from bagnet_repro.paper.plotting import fit_text, save_figure, text_outside_canvas


def heatmap_data(models: list[str], images: int, classes: list[str]) -> dict:
    """What ``bagnet-repro heatmaps`` writes, with random values."""
    rng = np.random.default_rng(0)
    size = 24
    data = {
        "images": rng.integers(0, 255, (images, 3, size, size), dtype=np.uint8),
        "scrambled": rng.integers(0, 255, (images, 3, size, size), dtype=np.uint8),
        "classes": np.array(classes),
        "labels": np.array([classes[i % len(classes)] for i in range(images)]),
        "models": np.array(models),
        "scramble_grid": np.array(4),
    }
    for model in models:
        data[f"{model}__heatmaps"] = rng.normal(size=(images, len(classes), size, size))
        data[f"{model}__scrambled"] = rng.normal(size=(images, len(classes), size, size))
        data[f"{model}__logits"] = rng.normal(size=(images, len(classes)))
    return data


LONG_CLASSES = ["a very long class name of holiday photographs", "kitchen", "Älgskog", "b"]


@pytest.mark.parametrize(
    ("models", "images"), [(["bagnet9"], 1), (["bagnet9", "bagnet17", "bagnet33"], 3), (["bagnet17"], 4)]
)
def test_every_heatmap_figure_keeps_its_text_inside_the_canvas(tmp_path, models, images):
    data = heatmap_data(models, images, LONG_CLASSES)
    figures = {
        "classes": draw.classes_figure(data, models[-1], classes_shown=2),
        "models": draw.models_figure(data),
        "scrambled": draw.scrambled_figure(data, models[-1]),
    }
    assert len(figures["models"].axes) >= images * (len(models) + 1)  # a row per image, a column per network
    for name, figure in figures.items():
        fit_text(figure)
        assert text_outside_canvas(figure) == [], name
        save_figure(figure, tmp_path / f"{name}.pdf", tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.pdf").read_bytes().startswith(b"%PDF")


def test_the_check_sees_a_title_cut_off_until_it_is_wrapped():
    figure = draw.models_figure(heatmap_data(["bagnet9"], 1, LONG_CLASSES))
    assert text_outside_canvas(figure)  # one network: the title is wider than the figure
    fit_text(figure)
    assert text_outside_canvas(figure) == []
