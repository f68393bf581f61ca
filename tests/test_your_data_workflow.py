"""End to end on a user's own data and networks: a 3-class folder the workflow splits, a pre-split 5-class folder
with unusual class names, and a torchvision network beside a BagNet on the demo data, each from the images to the
PDF, read as a reader would (the class names in the confusion matrices and the text, no report values where the
report did not measure)."""

from __future__ import annotations

import csv

import pytest
import yaml
from image_folders import pooled_folder, split_folder
from test_demo_workflow import check_paper_like_a_reader

from bagnet_repro.config.file_names import model_file_name
from helpers import PROJECT, run_snakemake

pytestmark = pytest.mark.slow
SMALLEST = str(PROJECT / ".test" / "config" / "config.yaml")  # the smallest whole run (2 models, 32 px, 1 epoch)


def _run(work, overlay: dict):
    work.mkdir(parents=True, exist_ok=True)
    config = work / "overlay.yaml"
    config.write_text(yaml.safe_dump({"backbones": {"names": []}, **overlay}, allow_unicode=True))
    result = run_snakemake(work, "--cores", "2", "--configfile", SMALLEST, str(config), timeout=1800)
    assert result.returncode == 0, result.stderr[-4000:]
    with open(work / "report/tables/table1.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _paper_text(work) -> str:
    import pymupdf

    with pymupdf.open(work / "report/paper.pdf") as document:
        return " ".join(" ".join(page.get_text() for page in document).split())


def _confusion_labels(work, model) -> list[str]:
    import pymupdf

    with pymupdf.open(work / f"report/figures/confusion_{model_file_name(model)}.pdf") as document:
        return [word[4] for page in document for word in page.get_text("words")]


def _check_own_classes(work, rows, classes, name):
    assert all(
        row[f"{metric}_report"] == "" for row in rows for metric in ("val_acc", "test_acc", "scrambled_test_acc")
    )
    with open(work / "results/statistics/confusion.csv", newline="") as handle:
        confusion = list(csv.DictReader(handle))
    assert {row["true"] for row in confusion} == {row["predicted"] for row in confusion} == set(classes)
    with open(work / "report/tables/per_class.csv", newline="") as handle:
        assert {row["class"] for row in csv.DictReader(handle)} == set(classes)
    for row in rows:
        words = " ".join(_confusion_labels(work, row["model"]))
        assert all(label in words for label in classes), (row["model"], words)
    text = _paper_text(work)
    assert name in text and f"{len(classes)} classes" in text and "else [" not in text
    assert f"; its {len(classes)} classes, named by its folders, are" in text
    assert "so no value of the report is compared" in text
    assert all(label in text for label in classes)
    check_paper_like_a_reader(work, min_figures=6)  # no feature-amount study or backbones table here


def test_a_three_class_folder_split_by_fractions_to_the_pdf(tmp_path):
    classes = ["coast", "forest", "kitchen"]
    pooled_folder(tmp_path / "photos", classes, per_class=16)
    rows = _run(
        tmp_path / "run",
        {
            "data": {"source": "folder", "folder": str(tmp_path / "photos"), "name": "Three scenes"},
            "split": {"test_fraction": 0.25, "val_fraction": 0.25},
        },
    )
    assert [row["model"] for row in rows] == ["bagnet9", "resnet50"]
    assert {row["n_test"] for row in rows} == {"12"}  # a quarter of each class's 16
    _check_own_classes(tmp_path / "run", rows, classes, "Three scenes")


def test_a_pre_split_five_class_folder_with_unusual_names_to_the_pdf(tmp_path):
    classes = ["Coast", "Living room", "Älgskog", "b", "NA"]  # spaces, capitals, non-ASCII, a letter, pandas' NaN
    split_folder(tmp_path / "Meine Bilder", classes, {"train": 8, "test": 4})
    rows = _run(
        tmp_path / "run",
        {"data": {"source": "folder", "folder": str(tmp_path / "Meine Bilder")}, "models": ["bagnet9"]},
    )
    assert [(row["model"], row["n_test"]) for row in rows] == [("bagnet9", "20")]  # the folder's own test set
    _check_own_classes(tmp_path / "run", rows, classes, "Meine Bilder")


def test_a_torchvision_network_beside_a_bagnet_on_the_demo_data(tmp_path):
    rows = _run(tmp_path, {"models": ["bagnet9", "torchvision:mobilenet_v3_small"]})
    assert [row["model"] for row in rows] == ["bagnet9", "torchvision:mobilenet_v3_small"]
    by_model = {row["model"]: row for row in rows}
    assert (
        by_model["bagnet9"]["test_acc_report"] != ""
        and by_model["torchvision:mobilenet_v3_small"]["test_acc_report"] == ""
    )
    text = _paper_text(tmp_path)
    assert "torchvision:mobilenet_v3_small" in text and "the 15 scene classes" in text
    check_paper_like_a_reader(tmp_path, min_figures=6)
