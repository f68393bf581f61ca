"""Layouts, inventory, splits and the duplicate audit on generated data."""

import csv
import shutil
from collections import Counter

import pytest

from bagnet_repro.config.classes import REPORT_CLASSES, SCENE_CATEGORIES_TO_REPORT
from bagnet_repro.data.audit import duplicate_pairs, summarize
from bagnet_repro.data.demo import make_demo_data
from bagnet_repro.data.inventory import build_inventory
from bagnet_repro.data.split import seeded_split, split_from_file
from bagnet_repro.errors import UserError
from helpers import run_cli


def test_demo_data_is_deterministic(tmp_path):
    a = make_demo_data(tmp_path / "a", train_per_class=2, test_per_class=1, width=32, height=32)
    b = make_demo_data(tmp_path / "b", train_per_class=2, test_per_class=1, width=32, height=32)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*.jpg"))
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*.jpg"))
    assert len(files_a) == 15 * 3
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)


def test_seeded_split_is_stratified_and_reproducible(demo_data):
    inventory = build_inventory(demo_data)
    first = seeded_split(inventory, val_fraction=0.2, test_per_class=4, seed=1)
    assert first == seeded_split(inventory, val_fraction=0.2, test_per_class=4, seed=1)
    counts = Counter((r.split, r.label) for r in first)
    for label in REPORT_CLASSES:
        assert (counts["train", label], counts["val", label], counts["test", label]) == (8, 2, 4)
    assert first != seeded_split(inventory, val_fraction=0.2, test_per_class=4, seed=2)


def test_too_few_test_images_is_a_clear_error(demo_data):
    with pytest.raises(UserError, match="split.test_per_class"):
        seeded_split(build_inventory(demo_data), 0.2, test_per_class=99, seed=0)


def test_scene_categories_layout_maps_to_report_classes(demo_data, tmp_path):
    root = tmp_path / "scene_categories"
    report_to_original = {v: k for k, v in SCENE_CATEGORIES_TO_REPORT.items()}
    for folder in (demo_data / "train").iterdir():
        target = root / report_to_original[folder.name]
        shutil.copytree(folder, target)
        for image in (demo_data / "test" / folder.name).iterdir():
            shutil.copy(image, target / image.name)
    records = build_inventory(tmp_path, course_train_per_class=10, seed=0)
    counts = Counter((r.split, r.label) for r in records)
    assert {label for _, label in counts} == set(REPORT_CLASSES)
    assert all(counts["train", c] == 10 and counts["test", c] == 6 for c in REPORT_CLASSES)


def test_empty_class_folder_fails_without_output(demo_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    for image in (data / "train" / "Kitchen").iterdir():
        image.unlink()
    out = tmp_path / "inventory.tsv"
    result = run_cli(
        "inventory", "--root", str(data), "--out", str(out), "--course-train-per-class", "100", "--seed", "152"
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"error: empty class folder (no images): {data}/train/Kitchen"
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["data"]


def test_split_file_is_reproduced_exactly(demo_data, tmp_path):
    inventory = build_inventory(demo_data)
    drawn = seeded_split(inventory, 0.3, 2, seed=5)
    split_file = tmp_path / "split.tsv"
    names = {"train": "training", "val": "validation", "test": "test1"}
    course = {r.path: r.split for r in inventory}
    with open(split_file, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["report_split", "class", "file", "course_split"])
        for r in drawn:
            writer.writerow([names[r.split], r.label, r.path.rsplit("/", 1)[1], course[r.path]])
    assert split_from_file(inventory, split_file) == drawn


def test_audit_finds_planted_duplicates(demo_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    train_coast, test_coast = data / "train" / "Coast", data / "test" / "Coast"
    first, second = sorted(train_coast.iterdir())[:2]
    shutil.copy(first, test_coast / "copy_across.jpg")  # a pair across course splits
    shutil.copy(second, train_coast / "copy_within.jpg")  # a pair within one split
    inventory = build_inventory(data)
    summary = summarize(duplicate_pairs(inventory, seeded_split(inventory, 0.2, 4, seed=0)))
    assert summary["duplicate_pairs"] == 2
    assert summary["across_course_splits"] == 1 and summary["within_course_splits"] == 1
