"""The command line is a package of stages: every stage registers its commands, and the choices it offers come
from the package's tables (recipes, catalog), so a new recipe or backbone needs no CLI edit."""

import re
import subprocess
import sys

from bagnet_repro import cli
from bagnet_repro.config.catalog import BACKBONE_NAMES
from bagnet_repro.config.recipes import RECIPES
from helpers import PROJECT


def _commands():
    parser = cli.build_parser()
    return parser._subparsers._group_actions[0].choices


def _option(command, flag):
    return next(a for a in _commands()[command]._actions if flag in a.option_strings)


def test_every_stage_module_registers_its_commands():
    modules = sorted(
        p.stem
        for p in (PROJECT / "src/bagnet_repro/cli").glob("*.py")
        if p.stem not in ("__init__", "__main__", "arguments")
    )
    assert sorted(stage.__name__.rsplit(".", 1)[1] for stage in cli.STAGES) == modules


def test_every_command_a_rule_runs_is_registered():
    rules = "".join(p.read_text() for p in (PROJECT / "workflow" / "rules").glob("*.smk"))
    called = set(re.findall(r"\{params\.cli\} ([a-z-]+)", rules))
    assert len(called) > 20 and called <= set(_commands())


def test_choices_come_from_the_recipe_table_and_the_catalog():
    for command in ("train", "pretrain", "feature-amount-run"):
        assert tuple(_option(command, "--recipe").choices) == tuple(RECIPES)
    assert tuple(_option("backbone-table", "--names").choices) == BACKBONE_NAMES


def test_every_option_of_the_heatmap_commands_says_what_it_is():
    """The budgets say what they bound: explain's the whole run of an image, heatmaps' one dense band."""
    for command in ("select-heatmap-images", "heatmaps", "explain"):
        for action in _commands()[command]._actions:
            assert action.help, (command, action.dest)
    assert "dense band" not in _option("explain", "--memory-mb").help
    assert "MB of memory explaining one image may take" in _option("explain", "--memory-mb").help
    assert "g x g pieces" in _option("heatmaps", "--scramble-grid").help
    assert _option("heatmaps", "--scramble-grid").default is None  # the config gives the grid, no default here


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
