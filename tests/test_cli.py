"""The command line is a package of stages: every stage registers its commands, and the choices it offers come
from the package's tables (recipes, catalog), so a new recipe or backbone needs no CLI edit."""

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bagnet_repro import cli
from bagnet_repro.cli.stages import command_line, option_rows
from bagnet_repro.config.catalog import BACKBONE_NAMES, ORIGINAL_BAGNETS
from bagnet_repro.config.recipes import RECIPES
from bagnet_repro.errors import UserError
from helpers import PROJECT


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``bagnet-repro`` run in this process, as ``cli.main`` runs it for the installed script (its exit code, its
    output and error streams): a fresh interpreter per command would cost a second or two of start-up each. The
    tests that need a process of their own (no torch imported, the listing of commands) start one."""
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        os.chdir(cwd or PROJECT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exit_:  # --help, and a usage error that tyro reports itself
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(["bagnet-repro", *args], code, out.getvalue(), err.getvalue())


_BACKBONE_OUTPUTS = ("--csv", "t.csv", "--md", "t.md", "--tex", "t.tex", "--latency-batches", "1")
_BACKBONE_OUTPUTS += ("--latency-repeats", "1", "--device", "cpu", "--threads", "1")


# Every required option of the training commands, each value good: a test changes one (the outputs are never
# written, a bad value stops the command first).
_COMPUTE = ("--seed", "0", "--device", "cpu", "--threads", "1")
_REQUIRED = {
    "fetch-weights": ("--model", "bagnet9", "--weights", "imagenet", "--out", "w.json"),
    "train": (
        *("--manifest", "m.tsv", "--model", "bagnet9", "--best", "b.pt", "--history", "h.csv"),
        *("--checkpoint", "c.pt", "--recipe", "report", *_COMPUTE),
    ),
    "pretrain": (
        *("--split", "s.tsv", "--model", "bagnet9", "--out", "w.pt", "--history", "h.csv", "--checkpoint", "c.pt"),
        *("--recipe", "bagnets_v2", "--workers", "0", *_COMPUTE),
    ),
    "precision": (
        *("--checkpoint", "b.pt", "--manifest", "m.tsv", "--out-table", "t.tsv", "--out-census", "c.tsv"),
        *("--out-histogram", "h.tsv", "--batch-size", "2", "--device", "cpu", "--threads", "1"),
    ),
    "feature-amount-data": ("--dataset", "mnist", "--root", "cache", "--out", "d.json"),
    "feature-amount-run": (
        *("--dataset", "mnist", "--data", "d.json", "--depth", "16", "--variant", "120", "--metrics", "m.json"),
        *("--history", "h.csv", "--checkpoint", "c.pt", "--recipe", "feature_amounts", *_COMPUTE),
    ),
    "feature-amount-table": ("--metrics", "m.json", "--out", "t.tsv"),
}


def _commands():
    parser = cli.build_parser()
    return parser._subparsers._group_actions[0].choices


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
    for option, _, _, help_text in option_rows(stage):
        assert help_text, (name, option)
        assert " ".join(help_text.split()[:4]) in text, (name, option)
        # a positional argument (explain's images, export-run's archive) is named in upper case, without --
        assert option in text and (option.startswith("--") or option.isupper()), (name, option)


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


def test_a_command_line_tyro_rejects_is_one_line_naming_the_option():
    outputs = ("--layers", "l.tsv", "--summary", "s.tsv")
    for args, words in (
        (("receptive-fields", "--models", "bagnet9"), "missing --image-size, --measure-size, --layers, --summary"),
        (
            ("receptive-fields", "--models", "bagnet9", "--image-size", "x", "--measure-size", "40", *outputs),
            "--image-size: invalid literal for int()",
        ),
        (("receptive-fields", "--models", "bagnet9", "--image-size"), "--image-size needs a value"),
        (("backbone-table", "--names", "resnet50", *_BACKBONE_OUTPUTS, "--bogus", "1"), "unknown option(s) --bogus 1"),
    ):
        result = run_cli(*args)
        assert result.returncode == 1 and result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"error: bagnet-repro {args[0]}: ") and words in result.stderr, result.stderr


_DEMO = ("make-demo-data", "--out", "d", "--train-per-class", "2", "--test-per-class", "1", "--height", "16")
_SPLIT = ("split", "--inventory", "i.tsv", "--out", "m.tsv", "--test-per-class", "1", "--seed", "0")


@pytest.mark.parametrize(
    "args, line",
    [
        ((*_DEMO, "--width", "8", "--seed", "0"), "--width must be at least 16, got 8"),
        ((*_DEMO, "--width", "16", "--seed", "-1"), "--seed must be at least 0, got -1"),
        (("download", "--url", "u", "--sha256=", "--out", "o", "--retries", "0"), "--retries must be at least 1"),
        (("extract", "--out", "o"), "extract needs at least one --archive"),
        (
            ("inventory", "--root", "r", "--out", "o", "--course-train-per-class", "1", "--seed", "0"),
            "--course-train-per-class must be at least 2, got 1",
        ),
        ((*_SPLIT, "--val-fraction", "1"), "--val-fraction must be between 0 and 1 (exclusive), got 1.0"),
        ((*_SPLIT, "--val-fraction", ".2", "--test-fraction", "0"), "--test-fraction must be between 0 and 1"),
        (
            ("holdout-split", "--train-dir", "t", "--out", "o", "--holdout", "1.5", "--seed", "0"),
            "--holdout must be between 0 and 1 (exclusive), got 1.5",
        ),
    ],
)
def test_a_bad_value_of_a_data_command_is_one_line_naming_its_option(tmp_path, args, line):
    """Checked before any file is read or written: nothing is left behind."""
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == "" and result.stderr.startswith(f"error: {line}")
    assert result.stderr.count("\n") == 1 and not any(tmp_path.iterdir()), result.stderr


def test_a_layout_is_one_of_the_choices_the_help_lists():
    refused = run_cli(*_SPLIT, "--val-fraction", ".2", "--layout", "pool")
    assert refused.returncode != 0 and "--layout" in refused.stderr and "scene15" in refused.stderr
    assert "--layout {scene15,folder}" in run_cli("inventory", "--help").stdout


def test_every_command_a_rule_runs_is_registered():
    rules = "".join(p.read_text() for p in (PROJECT / "workflow" / "rules").glob("*.smk"))
    called = set(re.findall(r"\{params\.cli\} ([a-z-]+)", rules))
    assert len(called) > 20 and called <= set(_commands())


def test_choices_come_from_the_recipe_table_and_the_catalog():
    for command in ("train", "pretrain", "feature-amount-run"):
        refused = run_cli(command, *_REQUIRED[command], "--recipe", "nope")
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
        assert f"--recipe: unknown recipe 'nope'; choose from: {', '.join(RECIPES)}" in refused.stderr
    refused = run_cli("backbone-table", "--names", "resnet50", "nope", *_BACKBONE_OUTPUTS)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert f"unknown backbone(s) nope; choose from: {', '.join(BACKBONE_NAMES)}" in refused.stderr


@pytest.mark.parametrize(
    ("command", "change", "line"),
    [
        ("fetch-weights", ("--weights", "nope.pt"), "weights file not found: nope.pt"),  # the library's line
        ("train", ("--seed", "-1"), "--seed must be at least 0, got -1"),
        ("train", ("--options", "[1]"), "--options must be a JSON object of TrainSettings values, not list"),
        ("pretrain", ("--workers", "-1"), "--workers must be at least 0, got -1"),
        ("pretrain", ("--options", "{"), "--options is not a JSON object: "),
        ("precision", ("--batch-size", "0"), "--batch-size must be at least 1, got 0"),
        ("precision", ("--max-images", "0"), "--max-images must be at least 1, got 0"),
        ("precision", ("--model", "bagnet9"), "give one of --checkpoint (a trained model) and --model"),
        ("feature-amount-data", ("--dataset", "scene15"), "--dataset: unknown data set 'scene15'; choose from: "),
        ("feature-amount-run", ("--depth", "9"), "--depth must be at least 10, got 9"),
        ("feature-amount-run", ("--dataset", "svhn"), "--dataset: unknown data set 'svhn'; choose from: "),
        ("feature-amount-table", ("--metrics",), "--metrics needs at least one metrics file"),
    ],
)
def test_a_bad_value_of_a_training_command_is_one_line_naming_its_option(tmp_path, command, change, line):
    """One line and no output written (the stage's own checks come before torch is imported); the value given
    last wins, as for --params."""
    result = run_cli(command, *_REQUIRED[command], *change, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == "" and result.stderr.startswith(f"error: {line}"), result.stderr
    assert result.stderr.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_precision_takes_an_original_bagnet_only():
    refused = run_cli("precision", *_REQUIRED["precision"][2:], "--model", "resnet50")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert f"--model: 'resnet50' is not an original BagNet; choose from: {', '.join(ORIGINAL_BAGNETS)}" in (
        refused.stderr
    )


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
_REQUIRED_FILES = ("--file", "figure1", "f", "--file", "mcnemar", "m", "--file", "training_curves", "c")
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
            "paper-values needs --file for training_curves",  # every --file counted
        ),
        (
            ("paper-values", "--config", "{}", *_VALUES, *_REQUIRED_FILES),
            "paper-values needs --file scramble_sweep: the config runs the sweep study (studies.sweep)",
        ),
        (
            (
                "paper-values",
                *("--config", '{"studies": {"precision": false}}', *_VALUES, *_REQUIRED_FILES),
                *("--file", "scramble_sweep", "s.pdf"),
            ),
            "the config has studies.precision: false, so it takes no --precision, --dead-layers",
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


def test_a_bool_is_a_bare_flag_with_its_no_form_and_params_give_it_the_same_way():
    from tyro.conf import Positional

    from bagnet_repro.cli.stages import Stage, run

    def pack(archive: Positional[str], weights: bool = True, force: bool = False) -> tuple:
        """Pack.

        Args:
            archive: where
            weights: with the weights
            force: replace
        """
        return archive, weights, force

    stage = Stage("pack", pack)
    assert run(stage, ["a.tar.gz", "--no-weights", "--force"]) == ("a.tar.gz", False, True)
    assert run(stage, ["a.tar.gz", "--params", '{"weights": false, "force": true}']) == ("a.tar.gz", False, True)
    assert run(stage, ["a.tar.gz"]) == ("a.tar.gz", True, False)
    assert "--no-weights" in run_cli("export-run", "--help").stdout
