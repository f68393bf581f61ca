"""The manual's table of results names, for each rendered table and figure, the Snakemake target that rebuilds it;
the compute table is one of them and is shown in Snakemake's HTML report."""

import tempfile
from pathlib import Path

from snakemake.io import is_flagged

from bagnet_repro.runs.targets import rendered_outputs, targets_table
from bagnet_repro.runs.workflow_dag import open_workflow
from helpers import PROJECT


def test_every_rendered_file_is_listed_with_its_rule():
    with tempfile.TemporaryDirectory() as workdir, open_workflow(Path(workdir), dag=False) as workflow:
        outputs = rendered_outputs(workflow)
        compute = workflow.get_rule("compute_table").output
        report = compute.csv.flags["report"]
        assert is_flagged(compute.csv, "report") and report.category == "Compute"
        assert report.caption.get_filename().endswith("compute.rst")
    assert outputs["compute_table"] == [
        "report/tables/compute.csv",
        "report/tables/compute.md",
        "report/tables/compute.tex",
    ]
    assert "report/figures/confusion_<model>.pdf" in outputs["table1"]
    results = (PROJECT / "docs" / "results.md").read_text()
    for rule in outputs:
        assert f"`snakemake --cores all {rule}`" in results, rule


def test_one_row_per_rule_with_extensions_grouped():
    table = targets_table({"b": ["report/x.csv", "report/x.md", "report/y.html"], "a": ["report/z"]})
    assert table.splitlines()[2:] == [
        "| `report/z` | `snakemake --cores all a` |",
        "| `report/x.{csv,md}`, `report/y.html` | `snakemake --cores all b` |",
    ]
