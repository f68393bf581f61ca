"""The rules' report and benchmark directives point at files that exist and cover the heavy jobs."""

import re

from helpers import PROJECT

RULES = PROJECT / "workflow" / "rules"
HEAVY = ("train", "evaluate", "heatmaps", "precision", "pretrain", "feature_amount_run")


def _rule_blocks() -> dict[str, str]:
    text = "".join(p.read_text() for p in sorted(RULES.glob("*.smk")))
    return {m[1]: m[2] for m in re.finditer(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.DOTALL | re.MULTILINE)}


def test_every_caption_and_the_report_description_exist_apart_from_the_outputs():
    captions = re.findall(r'caption="([^"]+)"', "".join(p.read_text() for p in RULES.glob("*.smk")))
    assert len(captions) > 15
    for caption in captions:
        path = (RULES / caption).resolve()
        assert path.is_file() and path.is_relative_to(PROJECT / "workflow" / "report"), caption
    description = re.search(r'^report: "([^"]+)"', (PROJECT / "Snakefile").read_text(), re.MULTILINE)
    assert description and (PROJECT / description[1]).is_file()
    assert not (PROJECT / "report" / "paper.typ").exists() and (PROJECT / "workflow/report/paper.typ").is_file()


def test_the_heavy_rules_record_benchmarks_under_logs():
    blocks = _rule_blocks()
    for name in HEAVY:
        match = re.search(r'benchmark:\n\s+f?"([^"]+)"', blocks[name])
        assert match and match[1].startswith("logs/benchmarks/"), name


def test_each_confusion_matrix_is_labelled_with_its_model():
    assert 'labels={"model": model}' in _rule_blocks()["table1"]
