"""A user's own image folder as the data set: its classes from its folders, its own split or one drawn by the
configured fractions, and one line naming the folder for each kind of bad data."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from image_folders import pooled_folder, split_folder, write_images

from bagnet_repro.config.checks import check_workflow_config
from bagnet_repro.errors import UserError
from helpers import run_cli

UNUSUAL = ["Coast", "living room", "Älgskog", "b", "NA"]  # spaces, capitals, non-ASCII, one letter, pandas' NaN


def _inventory_and_split(tmp_path, root, *split_options):
    inventory, manifest = tmp_path / "inventory.tsv", tmp_path / "manifest.tsv"
    listed = run_cli("inventory", "--root", str(root), "--layout", "folder", "--out", str(inventory),
                     "--course-train-per-class", "2", "--seed", "0")  # fmt: skip
    if listed.returncode:
        return listed, inventory, manifest
    split = run_cli("split", "--inventory", str(inventory), "--out", str(manifest), "--layout", "folder",
                    "--test-per-class", "1", "--seed", "7", *split_options)  # fmt: skip
    return split, inventory, manifest


def _rows(manifest):
    with open(manifest, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_a_pool_is_split_by_the_fractions_stratified_and_seeded(tmp_path):
    root = pooled_folder(tmp_path / "pool", ["kitchen", "forest", "coast"], per_class=12)
    result, _, manifest = _inventory_and_split(tmp_path, root, "--test-fraction", "0.25", "--val-fraction", "0.25")
    assert result.returncode == 0, result.stderr
    rows = _rows(manifest)
    counts = Counter((row["split"], row["class"]) for row in rows)
    # 12 per class: 3 tested, then a quarter of the other 9 (2 or 3) for validation.
    for name in ("coast", "forest", "kitchen"):
        assert counts["test", name] == 3 and counts["val", name] in (2, 3)
        assert counts["train", name] + counts["val", name] == 9
    assert len({row["path"] for row in rows}) == 36  # every image once
    first = manifest.read_text()
    again, _, _ = _inventory_and_split(tmp_path, root, "--test-fraction", "0.25", "--val-fraction", "0.25")
    assert again.returncode == 0 and manifest.read_text() == first  # the seed fixes the split


def test_a_pre_split_folder_keeps_its_test_set_and_draws_validation_from_train(tmp_path):
    root = split_folder(tmp_path / "mine", UNUSUAL, {"train": 8, "test": 4})
    options = ("--test-fraction", "0.5", "--val-fraction", "0.25")  # the test fraction is the pool's only
    result, inventory, manifest = _inventory_and_split(tmp_path, root, *options)
    assert result.returncode == 0, result.stderr
    rows = _rows(manifest)
    assert sorted({row["class"] for row in rows}) == sorted(UNUSUAL)  # the folder names as they are
    counts = Counter((row["split"], row["class"]) for row in rows)
    for name in UNUSUAL:
        assert (counts["train", name], counts["val", name], counts["test", name]) == (6, 2, 4)
        tested = {row["path"] for row in rows if row["split"] == "test" and row["class"] == name}
        assert all(f"/test/{name}/" in path for path in tested)  # the folder's own test images, all of them
    assert inventory.read_text().startswith("folder_split\tclass\tpath\tsha256\n")


def test_files_of_other_suffixes_are_named_not_silently_left_out(tmp_path):
    root = pooled_folder(tmp_path / "pool", ["a", "b"], per_class=4)
    (root / "b" / "notes.txt").write_text("not an image")
    (root / "b" / ".DS_Store").write_text("hidden: skipped, and counted")
    result, inventory, _ = _inventory_and_split(tmp_path, root, "--test-fraction", "0.25", "--val-fraction", "0.25")
    assert result.returncode == 0
    listed = run_cli("inventory", "--root", str(root), "--layout", "folder", "--out", str(inventory),
                     "--course-train-per-class", "2", "--seed", "0")  # fmt: skip
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2 and "1 file(s)" in warnings[0] and str(root / "b" / "notes.txt") in warnings[0]
    assert warnings[1] == f"warning: 1 hidden or macOS ._* file(s) skipped (first: {root / 'b' / '.DS_Store'})"
    assert "notes.txt" not in inventory.read_text()


def _listed(tmp_path, root):
    inventory = tmp_path / "inventory.tsv"
    listed = run_cli("inventory", "--root", str(root), "--layout", "folder", "--out", str(inventory),
                     "--course-train-per-class", "2", "--seed", "0")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("warning: ")]
    return _rows(inventory), warnings


def test_a_stray_folder_beside_train_and_test_is_named_not_silently_left_out(tmp_path):
    root = split_folder(tmp_path / "mine", ["a", "b"], {"train": 3, "test": 2})
    write_images(root / "extra", 0, 10)
    rows, warnings = _listed(tmp_path, root)
    assert len(rows) == 10 and not any("/extra/" in row["path"] for row in rows)
    assert warnings == [
        f"warning: 1 entries that are not class folders (nor train/, val/, test/) not read (first: {root / 'extra'})"
    ]


def test_macos_appledouble_and_ds_store_files_are_counted_not_fatal(tmp_path):
    root = pooled_folder(tmp_path / "pool", ["a", "b"], per_class=3)
    (root / "a" / "._img_000.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble resource fork, not a JPEG")
    (root / "a" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    rows, warnings = _listed(tmp_path, root)
    assert len(rows) == 6 and not any("._" in row["path"] for row in rows)
    assert warnings == [f"warning: 3 hidden or macOS ._* file(s) skipped (first: {root / '.DS_Store'})"]


def test_a_pool_class_named_like_a_split_is_a_class_or_refused_with_the_reason(tmp_path):
    root = pooled_folder(tmp_path / "pool", ["train", "forest"], per_class=3)  # train/ holds images: a class
    rows, _ = _listed(tmp_path, root)
    assert sorted({row["class"] for row in rows}) == ["forest", "train"]
    assert {row["folder_split"] for row in rows} == {"pool"}

    mixed = split_folder(tmp_path / "mixed", ["a", "b"], {"train": 3, "test": 2})
    write_images(mixed / "test", 0, 2)  # test/ holds images too: a class folder or a split?
    _refused(_inventory_and_split(tmp_path, mixed)[0], f"{mixed}: test/ holds images, as a class folder does, "
             "while train/ holds folders, as a split does")  # fmt: skip


def test_a_class_name_with_a_line_break_is_refused_in_one_escaped_line(tmp_path):
    root = pooled_folder(tmp_path / "pool", ["a", "b\nc"], per_class=3)
    line = _refused(_inventory_and_split(tmp_path, root)[0], "class folder name holds a tab or line break")
    assert line.endswith(f"{tmp_path}/pool/b\\nc")


def test_a_folder_with_val_keeps_all_three(tmp_path):
    root = split_folder(tmp_path / "mine", ["x", "y"], {"train": 4, "val": 2, "test": 3})
    result, _, manifest = _inventory_and_split(tmp_path, root, "--test-fraction", "0.2", "--val-fraction", "0.2")
    assert result.returncode == 0, result.stderr
    assert Counter(row["split"] for row in _rows(manifest)) == {"train": 8, "val": 4, "test": 6}


def _refused(result, *words):
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()  # progress bars may come first
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:], result.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def test_bad_folders_are_one_line_naming_the_folder(tmp_path):
    one = pooled_folder(tmp_path / "one", ["only"], per_class=4)
    _refused(_inventory_and_split(tmp_path, one)[0], "only one class folder", str(one), "only")

    differ = split_folder(tmp_path / "differ", ["a", "b"], {"train": 3, "test": 2})
    (differ / "test" / "b").rename(differ / "test" / "c")
    _refused(_inventory_and_split(tmp_path, differ)[0], "classes differ", str(differ / "test"), "only in train/: b",
             "only in test/: c")  # fmt: skip

    empty = pooled_folder(tmp_path / "empty", ["a", "b"], per_class=3)
    (empty / "c").mkdir()
    _refused(_inventory_and_split(tmp_path, empty)[0], "empty class folder", str(empty / "c"))

    broken = pooled_folder(tmp_path / "broken", ["a", "b"], per_class=3)
    (broken / "b" / "cut.jpg").write_bytes((broken / "a" / "img_000.jpg").read_bytes()[:200])
    _refused(_inventory_and_split(tmp_path, broken)[0], "do not decode", str(broken / "b" / "cut.jpg"))

    half = tmp_path / "half"
    write_images(half / "train" / "a", 0, 2)
    _refused(_inventory_and_split(tmp_path, half)[0], str(half), "not both train/ and test/")

    bare = tmp_path / "bare"
    write_images(bare, 0, 3)  # images but no class folders
    _refused(_inventory_and_split(tmp_path, bare)[0], "no class folders", str(bare))

    _refused(_inventory_and_split(tmp_path, tmp_path / "absent")[0], "data.folder not found", "absent")


def test_a_class_too_small_for_the_split_names_its_folder_and_nothing_is_written(tmp_path):
    root = pooled_folder(tmp_path / "pool", ["big", "small"], per_class=10)
    for extra in sorted((root / "small").iterdir())[1:]:
        extra.unlink()  # one image left: it cannot be on both sides
    result, _, manifest = _inventory_and_split(tmp_path, root, "--test-fraction", "0.2", "--val-fraction", "0.2")
    line = _refused(result, "class 'small'", str(root / "small"), "1 image(s)", "split.test_fraction 0.2")
    assert "each class needs an image on each side" in line
    assert not manifest.exists() and not list(tmp_path.glob("*.tmp"))


def test_the_config_of_a_folder_data_set(tmp_path):
    base = {"data": {"source": "folder", "folder": str(tmp_path)}, "models": ["bagnet9"]}
    config = check_workflow_config(base)
    assert config["split"]["test_fraction"] == 0.2 and config["data"]["name"] is None
    with pytest.raises(UserError, match="data.*folder"):
        check_workflow_config({"data": {"source": "folder"}, "models": ["bagnet9"]})
    with pytest.raises(UserError, match="'data.split_file'.*folder data set"):
        check_workflow_config({**base, "data": {**base["data"], "split_file": "report_split.tsv"}})


def test_the_example_config_is_a_valid_run_once_its_folder_is_set(tmp_path):
    import yaml

    from bagnet_repro.config.loading import merged
    from helpers import PROJECT

    base = yaml.safe_load((PROJECT / "config.yaml").read_text())
    example = yaml.safe_load((PROJECT / "configs" / "folder_example.yaml").read_text())
    config = check_workflow_config(merged(base, merged(example, {"data": {"folder": str(tmp_path)}})))
    assert config["data"]["source"] == "folder" and "torchvision:efficientnet_b0" in config["models"]


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("pool\ta\tx.jpg", "3 fields, not 4 (split, class, path, sha256)"),
        ("pool\t\tx.jpg\t" + "0" * 64, "field 'class' is empty"),
        ("pool\ta\tx.jpg\tabc", "field 'sha256' is 'abc', not 64 hex digits"),
    ],
)
def test_a_damaged_inventory_row_is_one_line_naming_the_file_line_and_field(tmp_path, row, why):
    inventory = tmp_path / "inventory.tsv"
    inventory.write_text(f"folder_split\tclass\tpath\tsha256\npool\tb\ty.jpg\t{'1' * 64}\n{row}\n")
    result = run_cli("split", "--inventory", str(inventory), "--out", str(tmp_path / "m.tsv"), "--layout", "folder",
                     "--test-per-class", "1", "--seed", "7", "--val-fraction", "0.2")  # fmt: skip
    assert _refused(result) == f"error: {inventory}, line 3: {why}; rerun the data step that wrote it (delete it first)"
    assert not (tmp_path / "m.tsv").exists()
