"""`bagnet-repro compare`: runs side by side from folders and run archives, exact McNemar between runs that agrees
with scipy's binomial test, Holm's correction, and one-line refusals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import binomtest
from tiny_workflow import synthetic_archive

from bagnet_repro.errors import UserError
from bagnet_repro.evaluation.pairs import holm, mcnemar_exact
from bagnet_repro.evaluation.statistics import SUMMARY_TABLES, summarize
from bagnet_repro.runs.compare import compare_runs, read_run
from helpers import run_cli

CLASSES = ("beach", "forest")
IMAGES = 20  # test images; val and scrambled test use the same files


def image_sha(index: int) -> str:
    return hashlib.sha256(f"image {index}".encode()).hexdigest()


def write_run(folder: Path, right: dict[str, int], seeds=(0, 1), config=None, offset=0, classes=CLASSES) -> Path:
    """A finished run's files as the workflow writes them: per-image predictions of each model and seed (the
    first ``right[model]`` test images right, the rest wrong), Table 1 from them by the pipeline's own
    summarize, and the paper values with the resolved config."""
    files = {}
    for model, n_right in right.items():
        for seed in seeds:
            rows = []
            for split in ("val", "test", "scrambled_test"):
                for index in range(IMAGES):
                    label = classes[index % 2]
                    correct = index < n_right if split != "scrambled_test" else index < n_right // 2
                    other = classes[(index + 1) % 2]
                    rows.append(
                        {
                            "split": split,
                            "path": f"data/{label}/{index + offset}.jpg",
                            "sha256": image_sha(index + offset),
                            "label": label,
                            "prediction": label if correct else other,
                            "correct": int(correct),
                        }
                    )
            path = folder / f"results/predictions/{model}/seed{seed}.tsv"
            path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
            files[(model, seed)] = str(path)
    tables = folder / "report/tables"
    tables.mkdir(parents=True, exist_ok=True)
    # no sweep grid was evaluated (as with studies.sweep: false), so there is no sweep table
    outputs = {name: str(tables / f"{name}.csv") for name in SUMMARY_TABLES if name != "sweep"}
    summarize(files, outputs, scramble_grid=2, draws=200)
    values = folder / "results/paper/values.json"
    values.parent.mkdir(parents=True, exist_ok=True)
    values.write_text(json.dumps({"config": config or {"train": {"epochs": 2}, "data": {"source": "demo"}}}))
    return folder


def archive_of(folder: Path, archive: Path) -> Path:
    """``folder``'s run files in a run archive with the manifest export-run writes (config in its provenance)."""
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    config = json.loads((folder / "results/paper/values.json").read_text())["config"]
    files = {name: (folder / name).read_bytes() for name in names if name != "results/paper/values.json"}
    return synthetic_archive(archive, files, config=config)


def test_the_exact_mcnemar_agrees_with_scipys_binomial_test_on_the_same_counts():
    for first_only, second_only in [(5, 0), (0, 5), (7, 3), (12, 30), (1, 1), (40, 18)]:
        expected = binomtest(first_only, first_only + second_only, 0.5).pvalue
        assert mcnemar_exact(first_only, second_only) == pytest.approx(expected, rel=1e-12)
    assert mcnemar_exact(0, 0) == 1.0


def test_holms_correction_on_a_worked_example():
    # sorted 0.01, 0.03, 0.04: 3 x 0.01, max(0.03, 2 x 0.03), max(0.06, 1 x 0.04); back in the given order
    assert holm([0.04, 0.01, 0.03]) == pytest.approx([0.06, 0.03, 0.06])
    assert holm([]) == []


def test_two_run_folders_side_by_side_with_the_paired_test(tmp_path):
    first = write_run(tmp_path / "a", {"bagnet9": 18, "resnet50": 10}, config={"train": {"epochs": 2}})
    second = write_run(tmp_path / "b", {"bagnet9": 8, "resnet50": 10}, config={"train": {"epochs": 4}})
    comparison = compare_runs([first, second])

    assert comparison.config.to_dict("records") == [{"key": "train.epochs", str(first): "2", str(second): "4"}]
    table1 = comparison.table1.set_index(["run", "model"])
    assert table1.loc[(str(first), "bagnet9"), "test_acc"] == pytest.approx(0.9)
    assert table1.loc[(str(second), "bagnet9"), "test_acc"] == pytest.approx(0.4)

    tests = comparison.tests.set_index(["model", "condition"])
    bagnet9 = tests.loc[("bagnet9", "test")]
    # images 8..17 right in the first run only, for each of the two seeds (same seeds: paired seed by seed)
    assert (bagnet9.a_only_correct, bagnet9.b_only_correct, bagnet9.n_pairs) == (20, 0, 40)
    assert bagnet9.p_value == pytest.approx(binomtest(20, 20, 0.5).pvalue)
    assert bagnet9.differs == "yes" and bagnet9.pairing == "same seeds"
    resnet = tests.loc[("resnet50", "test")]
    assert (resnet.a_only_correct, resnet.b_only_correct, resnet.p_value, resnet.differs) == (0, 0, 1.0, "no")
    # Holm over the four tests: the smallest p times 4
    assert tests.p_holm.min() == pytest.approx(min(1.0, 4 * tests.p_value.min()))


def test_a_folder_against_an_archive_of_another_run_reads_the_archive_without_unpacking(tmp_path):
    first = write_run(tmp_path / "a", {"bagnet9": 18})
    other = write_run(tmp_path / "b", {"bagnet9": 8}, config={"train": {"epochs": 4}, "data": {"source": "demo"}})
    archive = archive_of(other, tmp_path / "b.tar.gz")
    before = sorted(p.name for p in tmp_path.iterdir())

    from_archive = compare_runs([first, archive])
    from_folder = compare_runs([first, other])
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing unpacked beside it
    columns = ["model", "condition", "n_pairs", "a_only_correct", "b_only_correct", "p_value", "p_holm"]
    pd.testing.assert_frame_equal(from_archive.tests[columns], from_folder.tests[columns])
    assert from_archive.config.key.tolist() == ["train.epochs"]


def test_runs_on_other_images_or_seed_counts_are_compared_without_the_test_and_say_why(tmp_path):
    first = write_run(tmp_path / "a", {"bagnet9": 18})
    moved = write_run(tmp_path / "b", {"bagnet9": 18}, offset=100)
    three = write_run(tmp_path / "c", {"bagnet9": 18}, seeds=(0, 1, 2))
    other_seeds = write_run(tmp_path / "d", {"bagnet9": 18}, seeds=(5, 6))

    tests = compare_runs([first, moved, three, other_seeds]).tests.set_index(["run_a", "run_b", "condition"])
    assert tests.loc[(str(first), str(moved), "test"), "pairing"] == (
        "not tested: the runs were tested on different images"
    )
    assert tests.loc[(str(first), str(three), "test"), "pairing"] == "not tested: 2 and 3 seeds"
    assert tests.loc[(str(first), str(other_seeds), "test"), "pairing"] == "seeds paired in order"
    assert tests.loc[(str(first), str(other_seeds), "test"), "p_value"] == 1.0


def one_line_error(result) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_runs_of_other_classes_are_refused_in_one_line_naming_both(tmp_path):
    first = write_run(tmp_path / "a", {"bagnet9": 18})
    other = write_run(tmp_path / "b", {"bagnet9": 18}, classes=("beach", "desert"))
    line = one_line_error(run_cli("compare", str(first), str(other)))
    assert str(first) in line and str(other) in line and "desert" in line and "forest" in line


def test_what_is_not_a_finished_run_is_refused_in_one_line(tmp_path):
    run = write_run(tmp_path / "a", {"bagnet9": 18})
    (tmp_path / "empty").mkdir()
    assert "not a finished run" in one_line_error(run_cli("compare", str(run), str(tmp_path / "empty")))
    assert "two or more runs" in one_line_error(run_cli("compare", str(run)))
    (tmp_path / "x.txt").write_text("x")
    assert "neither a run folder nor a run archive" in one_line_error(
        run_cli("compare", str(run), str(tmp_path / "x.txt"))
    )
    (tmp_path / "broken.tar.gz").write_bytes(b"not gzip")
    assert "broken.tar.gz" in one_line_error(run_cli("compare", str(run), str(tmp_path / "broken.tar.gz")))
    with pytest.raises(UserError, match="named twice"):
        compare_runs([run, run])


def test_the_command_prints_the_tables_and_writes_them_with_out(tmp_path):
    first = write_run(tmp_path / "a", {"bagnet9": 18}, config={"train": {"epochs": 2}})
    second = write_run(tmp_path / "b", {"bagnet9": 8}, config={"train": {"epochs": 4}})
    result = run_cli("compare", str(first), str(second), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "train.epochs" in result.stdout and "bagnet9" in result.stdout
    assert "bagnet9 on the test images" in result.stdout and " differ (exact McNemar over 40 pairs" in result.stdout
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(f"compare_{n}.{s}" for n in ("config", "table1", "mcnemar") for s in ("csv", "md"))
    assert read_run(first).classes() == list(CLASSES)


def test_runs_of_other_data_sets_are_refused_even_with_the_same_class_names(tmp_path):
    demo = write_run(tmp_path / "a", {"bagnet9": 18}, config={"data": {"source": "demo"}})
    folder = write_run(tmp_path / "b", {"bagnet9": 18}, config={"data": {"source": "folder", "folder": "/x"}})
    line = one_line_error(run_cli("compare", str(demo), str(folder)))
    assert "different data sets (the demo data and a folder data set)" in line
