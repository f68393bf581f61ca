"""Snakemake's report as a zip (``snakemake --report report.zip``), checked as the workflow catalog's users open
it: the tests of the demo and of the workflow as a module share this check."""

import zipfile

from helpers import PROJECT


def check_report_zip(workdir, categories):
    """Snakemake's report of the run in ``workdir`` as a zip: it opens, holds Table 1 as the run wrote it and the
    figures, and its page carries each category, each entry's caption and its labels."""
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        assert archive.testzip() is None
        files = {name.rsplit("/", 1)[-1]: name for name in archive.namelist()}
        assert archive.read(files["table1.csv"]) == (workdir / "report" / "tables" / "table1.csv").read_bytes()
        page = " ".join(archive.read(files["report.html"]).decode().split())
    for figure in ("training_curves.png", "scramble_sweep.png", "heatmaps_classes.png", "weight_distribution.png"):
        assert figure in files, figure
    for category in categories:
        assert f'"{category}"' in page, category
    for caption in ("table1", "training_curves", "heatmaps_classes"):
        text = (PROJECT / "workflow" / "report" / "captions" / f"{caption}.rst").read_text()
        first_line = next(line for line in text.splitlines() if not line.startswith("{%"))  # Jinja's set lines
        opening = " ".join(first_line.split("{{")[0].split()[:6])
        assert opening in page, caption
    assert '"labels": {"name": "Table 1: accuracy with 95% intervals", "type": "table"}' in page
    assert '"labels": {"model": "resnet50"}' in page
