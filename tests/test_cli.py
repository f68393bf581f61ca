"""The command line is a package of stages: every stage registers its commands, and the choices it offers come
from the package's tables (recipes, catalog), so a new recipe or backbone needs no CLI edit."""

import re
import subprocess
import sys

import pytest

from bagnet_repro import cli
from bagnet_repro.cli.stages import command_line, option_rows
from bagnet_repro.config.catalog import BACKBONE_NAMES
from bagnet_repro.config.recipes import RECIPES
from bagnet_repro.errors import UserError
from helpers import PROJECT, run_cli

_BACKBONE_OUTPUTS = ("--csv", "t.csv", "--md", "t.md", "--tex", "t.tex", "--latency-batches", "1")
_BACKBONE_OUTPUTS += ("--latency-repeats", "1", "--device", "cpu", "--threads", "1")


def _run_cli(*args):
    return run_cli(*args)


def _commands():
    parser = cli.build_parser()
    return parser._subparsers._group_actions[0].choices


def _option(command, flag):
    return next(a for a in _commands()[command]._actions if flag in a.option_strings)


def test_every_stage_module_registers_its_commands():
    modules = sorted(
        p.stem
        for p in (PROJECT / "src/bagnet_repro/cli").glob("*.py")
        if p.stem not in ("__init__", "__main__", "arguments", "stages")
    )
    assert sorted(stage.__name__.rsplit(".", 1)[1] for stage in cli.STAGES) == modules


def test_bagnet_repro_help_lists_every_command():
    listed = subprocess.run(
        [sys.executable, "-m", "bagnet_repro", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert set(_commands()) == set(re.findall(r"^    ([a-z-]+)", listed, re.MULTILINE))
    assert set(cli.declared_stages()) <= set(_commands())


@pytest.mark.parametrize("name", sorted(cli.declared_stages()))
def test_a_declared_command_documents_every_option(name):
    """--help (tyro, from the signature) names every parameter's option with its one line of help."""
    stage = cli.declared_stages()[name]
    shown = run_cli(name, "--help")
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.replace("│", " ").split())
    for option, kind, _, help_text in option_rows(stage):
        assert help_text, (name, option)
        assert " ".join(help_text.split()[:4]) in text, (name, option)
        # a positional argument (explain's images, export-run's archive) has no option to name
        assert (option in text) != kind.startswith("Positional["), (name, option)


def test_params_stand_for_options_and_later_options_win():
    stage = cli.declared_stages()["backbone-table"]
    params = '{"names": ["resnet50"], "latency_batches": [1, 32], "latency_repeats": 5, "csv": "a.csv"}'
    assert command_line(stage, ["--params", params, "--latency-repeats", "2"]) == [
        *("--names", "resnet50", "--latency-batches", "1", "32", "--latency-repeats", "5", "--csv", "a.csv"),
        *("--latency-repeats", "2"),
    ]
    with pytest.raises(UserError, match=r"^--params of backbone-table: unknown key\(s\) repeats "):
        command_line(stage, ["--params", '{"repeats": 5}'])
    with pytest.raises(UserError, match=r"^--repeats of backbone-table is now --latency-repeats$"):
        command_line(stage, ["--repeats", "5"])


def test_a_renamed_option_and_a_bad_params_key_are_one_line():
    for args, words in (
        (("backbone-table", "--repeats", "5"), "error: --repeats of backbone-table is now --latency-repeats"),
        (("evaluate", "--params", '{"sweep_max_grid": 8}'), "unknown key(s) sweep_max_grid"),
        (("receptive-fields", "--params", "[1]"), "must be a JSON object of its options, not list"),
    ):
        result = run_cli(*args)
        assert result.returncode == 1 and result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert words in result.stderr


def test_every_command_a_rule_runs_is_registered():
    rules = "".join(p.read_text() for p in (PROJECT / "workflow" / "rules").glob("*.smk"))
    called = set(re.findall(r"\{params\.cli\} ([a-z-]+)", rules))
    assert len(called) > 20 and called <= set(_commands())


def test_choices_come_from_the_recipe_table_and_the_catalog():
    for command in ("train", "pretrain", "feature-amount-run"):
        assert tuple(_option(command, "--recipe").choices) == tuple(RECIPES)
    refused = _run_cli("backbone-table", "--names", "resnet50", "nope", *_BACKBONE_OUTPUTS)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert f"unknown backbone(s) nope; choose from: {', '.join(BACKBONE_NAMES)}" in refused.stderr


def test_every_option_of_the_heatmap_commands_says_what_it_is():
    """The budgets say what they bound: explain's the whole run of an image, heatmaps' one dense band."""
    rows = {name: {row[0]: row for row in option_rows(cli.declared_stages()[name])} for name in ("explain", "heatmaps")}
    assert "dense band" not in rows["explain"]["--memory-mb"][3]
    assert "MB of memory explaining one image may take" in rows["explain"]["--memory-mb"][3]
    assert "g x g pieces" in rows["heatmaps"]["--scramble-grid"][3]
    assert rows["heatmaps"]["--scramble-grid"][2] == "required"  # the config gives the grid, no default here


_SUMMARY = ("--table1", "a", "--mcnemar", "b", "--per-class", "c", "--confusion", "d", "--sweep", "e")
_SUMMARY += ("--scramble-grid", "4")
_VALUES = ("--sweep", "s", "--precision", "p", "--dead-layers", "d", "--audit-summary", "a", "--manifest", "m")
_VALUES += ("--inventory", "i", "--histories", "h", "--train-settings", "{}", "--project", ".")
_VALUES += ("--snakemake-version", "9", "--out", "v.json", "--file", "table1", "t.csv")
_HEATMAPS = ("--selection", "s", "--out", "h.npz", "--scramble-seed", "0", "--memory-mb", "64")
_HEATMAPS += ("--device", "cpu", "--threads", "1")
_VARIANTS = ("--csv", "a", "--md", "b", "--tests", "c", "--figure", "d", "--figure-pdf", "e")


@pytest.mark.parametrize(
    "args, words",
    [
        (("select-heatmap-images", "--predictions", "p.tsv", "--count", "0", "--out", "s.tsv"), "--count must be"),
        (("heatmaps", "--checkpoints", "--scramble-grid", "2", *_HEATMAPS), "--checkpoints needs at least one"),
        (("heatmaps", "--checkpoints", "b.pt", "--scramble-grid", "0", *_HEATMAPS), "--scramble-grid must be"),
        (("explain", "a.png", "--image-size", "8"), "--image-size must be at least 9, got 8"),
        (("explain", "a.png", "--threads", "0"), "--threads must be at least 1, got 0"),
        (("summarize", "--predictions", "m", "one", "p.tsv", *_SUMMARY), "m one p.tsv: the seed must be an integer"),
        (("summarize", *_SUMMARY), "summarize needs --predictions MODEL SEED TSV"),
        (("summarize", "--predictions", "m", "1", "p.tsv", *_SUMMARY, "--bootstrap", "0"), "--bootstrap must be"),
        (("paper-values", "--config", "{", *_VALUES), "--config is not JSON"),
        (("paper-values", "--config", "{}", *_VALUES), "paper-values needs --file for figure1, mcnemar"),
        (
            ("paper-values", "--config", "{}", *_VALUES, "--file", "figure1", "f.csv", "--file", "mcnemar", "m.csv"),
            "needs --file for scramble_sweep, training_curves, weight_distribution",  # every --file counted
        ),
        (("compare",), "compare needs two or more runs"),
        (("variants-table", "--variant", "v0", "[1]", *_VARIANTS), "--variant v0: VALUES must be a JSON object"),
    ],
)
def test_a_bad_value_of_a_report_command_is_one_line_naming_its_option(args, words):
    """Checked before any work: one line on stderr that names the option, nothing on stdout."""
    result = run_cli(*args)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert result.stdout == "", result.stdout


def test_parsing_the_command_line_imports_no_torch():
    code = "import sys; from bagnet_repro.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(PROJECT / "src")},
    )
    assert result.stdout.strip() == "False"


def test_a_repeated_option_keeps_every_occurrence(monkeypatch, capsys):
    """variants-table --variant FOLDER VALUES, once per variant (the rule's line): each one reaches the table."""
    import bagnet_repro.runs.variants as variants
    from bagnet_repro.cli.stages import run

    seen = {}
    monkeypatch.setattr(variants, "write_variants_table", lambda given, *outputs: seen.update(given=given))
    run(cli.declared_stages()["variants-table"], ["--variant", "a", '{"x": 1}', "--variant", "b", "{}", *_VARIANTS])
    assert seen["given"] == [("a", {"x": 1}), ("b", {})] and "a: 2 variants" in capsys.readouterr().out
