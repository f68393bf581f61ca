"""The rules as Snakemake parses them: every report entry has its caption file, a category and labels, and every
job that runs on a device (a ``device`` parameter) records a benchmark under logs/."""

from pathlib import Path

import pytest
from planned import device_rules, parsed_rules
from snakemake.io import get_flag_value, is_flagged

from helpers import PROJECT

REPORT = PROJECT / "workflow" / "report"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("rules")


def _report_entries(rules):
    for rule in rules.values():
        for output in rule.output:
            if is_flagged(output, "report"):
                yield rule.name, str(output), get_flag_value(output, "report")


def test_every_report_entry_has_its_caption_a_category_and_labels(workdir):
    # The demo config runs the studies too, so every entry of the report is declared.
    entries = list(_report_entries(parsed_rules(workdir, {"feature_amounts": {"dataset": "scene15"}})))
    assert len(entries) > 15
    for rule, output, entry in entries:
        caption = entry.caption.get_path_or_uri(secret_free=True)
        assert Path(caption).is_file() and Path(caption).resolve().is_relative_to(REPORT), (rule, caption)
        assert entry.category and entry.labels, (rule, output)
    confusion = [(output, entry.labels) for rule, output, entry in entries if "confusion_" in output]
    assert confusion and all(labels["model"] in output for output, labels in confusion)
    description = PROJECT / "workflow" / "report" / "workflow.rst"
    assert description.is_file() and 'report: "workflow/report/workflow.rst"' in (PROJECT / "Snakefile").read_text()
    assert not (PROJECT / "report" / "paper.typ").exists() and (REPORT / "paper.typ").is_file()


def test_the_jobs_on_a_device_record_benchmarks_under_logs(workdir):
    rules = parsed_rules(workdir)
    heavy = device_rules(workdir)
    assert {"train", "evaluate", "pretrain"} <= heavy
    for name in heavy:
        assert str(rules[name].benchmark).startswith("logs/benchmarks/"), name
