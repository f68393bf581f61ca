"""The demo's compute table and the report's Compute section and checklist appendix, read from the finished demo."""

import csv
import json

import pytest

from bagnet_repro.compute.accounting import read_record
from bagnet_repro.compute.table import SUMMED


@pytest.mark.slow
def test_the_demo_counts_every_job_and_prints_its_compute_and_checklists(finished_demo):
    with open(finished_demo / "report/tables/compute.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    jobs = [row for row in rows if row["level"] == "job"]
    (total,) = [row for row in rows if row["level"] == "total"]
    for column in SUMMED:
        assert float(total[column]) == pytest.approx(sum(float(row[column]) for row in jobs), abs=1e-6), column
    models = json.loads((finished_demo / "results/paper/values.json").read_text())["summary"]["models"]
    assert sorted(row["name"] for row in jobs if row["stage"] == "train") == sorted(f"{m}_seed0" for m in models)
    for model in models:
        record = read_record(finished_demo / f"results/models/{model}/seed0/best.compute.json")
        assert record["attempts"][-1]["status"] == "succeeded" and record["attempts"][-1]["epochs"] == 2
        metrics = json.loads((finished_demo / f"results/metrics/{model}/seed0.json").read_text())
        assert metrics["numerics"]["training"]["precision"] == "auto"  # the demo's recipe: fp32 on the CPU
    import pymupdf

    with pymupdf.open(finished_demo / "report/paper.pdf") as document:
        text = " ".join(" ".join(page.get_text().split()) for page in document)
    assert f"The run’s {total['jobs']} computing jobs ran on" in text  # Typst sets a typographic apostrophe
    assert "Appendix: what the checklists ask, answered from this run" in text
    for item in ("Specification of dependencies", "Experiments compute resources", "Licences of existing assets"):
        assert item in text
