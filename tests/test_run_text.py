"""The PDF's words are the run's: its networks, seeds and classes, not the report's."""

import pandas as pd

from bagnet_repro.config.classes import REPORT_CLASSES
from bagnet_repro.paper.values import in_words, split_values, summary_values


def table(models, seeds):
    return pd.DataFrame(
        {
            "model": models,
            "n_seeds": [seeds] * len(models),
            "test_acc_mean": [0.5 + 0.1 * i for i in range(len(models))],
            "scrambled_test_acc_mean": [0.4] * len(models),
        }
    )


def test_lists_in_words():
    assert [in_words([]), in_words(["a"]), in_words(["a", "b"]), in_words(["a", "b", "c"])] == [
        "",
        "a",
        "a and b",
        "a, b and c",
    ]


def test_the_summary_names_this_runs_networks_seeds_and_heatmap_models():
    values = summary_values(table(["bagnet9", "torchvision:mobilenet_v3_small"], 1))
    assert values["models_text"] == "bagnet9 and torchvision:mobilenet_v3_small"
    assert values["seeds_text"] == "one seed" and values["heatmap_models_text"] == "bagnet9"
    assert summary_values(table(["resnet50"], 3))["seeds_text"] == "3 seeds"


def test_the_split_says_whether_the_data_are_the_reports_classes():
    scenes = pd.DataFrame({"split": ["test"] * 15, "class": list(REPORT_CLASSES)})
    assert split_values(scenes)["report_classes"] is True
    own = pd.DataFrame({"split": ["train", "test", "val"], "class": ["Ærø", "apple pie", "Zebra"]})
    values = split_values(own)
    assert values["report_classes"] is False and values["classes"] == "3"
    assert values["class_names"] == "Zebra, apple pie and Ærø"


def intervals(means, lows, highs):
    return pd.DataFrame(
        {
            "model": [f"m{i}" for i in range(len(means))],
            "n_seeds": 1,
            "test_acc_mean": means,
            "test_acc_ci_low": lows,
            "test_acc_ci_high": highs,
            "scrambled_test_acc_mean": [0.3] * len(means),
        }
    )


def test_ties_and_overlapping_intervals_are_said_as_such_never_as_a_ranking():
    from bagnet_repro.paper.values import accuracy_text

    assert accuracy_text(intervals([0.5, 0.5], [0.4, 0.4], [0.6, 0.6])) == (
        "m0 and m1 reach the same test accuracy (0.500), so the run does not rank them"
    )
    assert "but its 95% interval overlaps that of m0" in accuracy_text(intervals([0.5, 0.6], [0.4, 0.5], [0.6, 0.7]))
    assert accuracy_text(intervals([0.3, 0.8], [0.2, 0.7], [0.4, 0.9])).startswith("m1 is the most accurate")
    assert (
        accuracy_text(intervals([0.8], [0.7], [0.9]))
        == "m0 reaches a test accuracy of 0.800 (95% interval 0.700 to 0.900)"
    )
