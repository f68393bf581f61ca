"""Each result records the digest of the package code that made it; the provenance names results of other code."""

import csv
import json
import os
import shutil
import subprocess
import sys

from bagnet_repro.data.inventory import build_inventory, write_records
from bagnet_repro.data.split import seeded_split
from bagnet_repro.files.code_digest import PACKAGE, code_check, code_sha256, digest_of, recorded_code
from helpers import PROJECT, evaluate_command, train_command


def test_digest_follows_the_code_not_the_place_nor_caches(tmp_path):
    copy = tmp_path / "a" / "bagnet_repro"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert digest_of(copy) == code_sha256()
    moved = tmp_path / "b" / "bagnet_repro"
    shutil.move(copy, moved)
    (moved / "__pycache__").mkdir(exist_ok=True)
    (moved / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (moved / "notes.txt").write_text("not code")
    assert digest_of(moved) == code_sha256()
    errors = moved / "errors.py"
    errors.write_text(errors.read_text().replace('"""One exception type', '"""One exception kind', 1))
    assert digest_of(moved) != code_sha256()  # a docstring counts (rerunning on it is the user's opt-in)
    # Contents are not separable: moving text between two files changes the digest.
    renamed = tmp_path / "c" / "bagnet_repro"
    shutil.copytree(PACKAGE, renamed, ignore=shutil.ignore_patterns("__pycache__"))
    (renamed / "errors.py").rename(renamed / "errors2.py")
    assert digest_of(renamed) != code_sha256()


def test_the_command_prints_the_digest():
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"))
    result = subprocess.run(
        [sys.executable, "-m", "bagnet_repro", "code-digest"], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == code_sha256()


def test_recorded_code_of_json_and_tables(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"code_sha256": "abc"}))
    (tmp_path / "old.json").write_text(json.dumps({"acc": 1}))
    (tmp_path / "h.csv").write_text("epoch,code_sha256\n1,abc\n2,def\n")
    (tmp_path / "t.tsv").write_text("a\tb\n1\t2\n")
    assert recorded_code(tmp_path / "m.json") == {"abc"}
    assert recorded_code(tmp_path / "h.csv") == {"abc", "def"}  # a resumed run spanning a code change
    assert recorded_code(tmp_path / "old.json") is None and recorded_code(tmp_path / "t.tsv") is None
    check = code_check([tmp_path / "m.json", tmp_path / "h.csv", tmp_path / "old.json"], current="abc")
    assert check["other"] == [str(tmp_path / "h.csv")] and check["unrecorded"] == [str(tmp_path / "old.json")]
    assert "1 of 3 results were made by other code: " + str(tmp_path / "h.csv") in check["summary"]


def test_train_and_evaluate_record_the_code_and_paper_values_names_other_code(demo_data, tmp_path):
    manifest = tmp_path / "manifest.tsv"
    write_records(seeded_split(build_inventory(demo_data), 0.2, test_per_class=2, seed=0), manifest, "split")
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"), OMP_NUM_THREADS="1")
    cli = [sys.executable, "-m", "bagnet_repro"]
    options = {"image_size": 32, "epochs": 1, "batch_size": 8, "precision": "fp32"}
    subprocess.run([*cli, *train_command(manifest, tmp_path, options)], env=env, check=True, capture_output=True)
    evaluated = [*cli, *evaluate_command(tmp_path / "best.pt", manifest, tmp_path)]
    subprocess.run(evaluated, env=env, check=True, capture_output=True)
    with open(tmp_path / "history.csv") as handle:
        assert {row["code_sha256"] for row in csv.DictReader(handle)} == {code_sha256()}
    assert json.loads((tmp_path / "metrics.json").read_text())["code_sha256"] == code_sha256()

    from bagnet_repro.paper.provenance import provenance

    config = {"compute": {"device": "cpu"}}
    fresh = provenance(PROJECT, config, manifest, [tmp_path / "history.csv"], "9", [tmp_path / "metrics.json"])
    assert fresh["code"]["other"] == [] and "all 2 results checked were made by this code" in fresh["code"]["summary"]
    stale = json.loads((tmp_path / "metrics.json").read_text()) | {"code_sha256": "0" * 64}
    (tmp_path / "metrics.json").write_text(json.dumps(stale))
    named = provenance(PROJECT, config, manifest, [tmp_path / "history.csv"], "9", [tmp_path / "metrics.json"])
    assert named["code"]["other"] == [str(tmp_path / "metrics.json")]
