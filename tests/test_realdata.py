"""The data rules on the real 15-scene images, served as a zip from 127.0.0.1 (never committed).

Checks the report's 80/20/80 per-class split, the 11 cross-split duplicate pairs of the course data, and
that ``split_file`` reproduces REPORT_SPLIT.tsv exactly.
"""

import csv
import hashlib
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bagnet_repro.config.classes import REPORT_CLASSES
from helpers import SHARED_SCENE15, run_snakemake

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        not (SHARED_SCENE15 / "train").is_dir(), reason=f"real 15-scene data not found at {SHARED_SCENE15}"
    ),
]
DATA_TARGETS = ["results/data/manifest.tsv", "results/data/audit_summary.json"]


def _pack(zip_path: Path) -> str:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as zf:
        for image in sorted(SHARED_SCENE15.glob("t*/*/*")):
            zf.write(image, Path("15-Scene") / image.relative_to(SHARED_SCENE15))
    return hashlib.sha256(zip_path.read_bytes()).hexdigest()


def _config(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"data": data}))
    return path


def _manifest(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_real_data_rules(tmp_path, file_server):
    zip_path = tmp_path / "scene15.zip"
    digest = _pack(zip_path)
    file_server.files["scene15.zip"] = zip_path.read_bytes()
    work = tmp_path / "url_run"
    config = _config(tmp_path, {"source": "url", "urls": [{"url": file_server.url("scene15.zip"), "sha256": digest}]})
    result = run_snakemake(work, *DATA_TARGETS, "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-3000:]

    rows = _manifest(work / "results/data/manifest.tsv")
    counts = Counter((r["split"], r["class"]) for r in rows)
    assert all((counts["train", c], counts["val", c], counts["test", c]) == (80, 20, 80) for c in REPORT_CLASSES)
    assert len(rows) == 2700 and len({r["path"] for r in rows}) == 2700

    summary = json.loads((work / "results/data/audit_summary.json").read_text())
    assert summary["duplicate_pairs"] == 18
    assert summary["across_course_splits"] == 11

    # The report's exact lists, from the extracted copy of the first run.
    split_run = tmp_path / "split_file_run"
    config = _config(
        tmp_path,
        {
            "source": "local",
            "local_dir": str(work / "results/data/extracted"),
            "split_file": str(SHARED_SCENE15 / "REPORT_SPLIT.tsv"),
        },
    )
    result = run_snakemake(split_run, *DATA_TARGETS, "--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    names = {"train": "training", "val": "validation", "test": "test1"}
    ours = sorted(
        (names[r["split"]], r["class"], Path(r["path"]).name, Path(r["path"]).parts[-3])
        for r in _manifest(split_run / "results/data/manifest.tsv")
    )
    with open(SHARED_SCENE15 / "REPORT_SPLIT.tsv", newline="") as handle:
        reference = sorted(
            (r["report_split"], r["class"], r["file"], r["course_split"])
            for r in csv.DictReader(handle, delimiter="\t")
        )
    assert ours == reference
