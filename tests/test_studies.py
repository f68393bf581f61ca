"""Which optional studies a config runs (config/studies.py): the defaults of each data set, the switches over
them, the one-line errors of a switch that cannot hold, and the dry run that follows the switches."""

from pathlib import Path

import pytest
from planned import summary

from bagnet_repro.config.catalog import BACKBONE_NAMES
from bagnet_repro.config.checks import check_config_files
from bagnet_repro.config.studies import STUDIES, resolve_studies, switched_off_text
from bagnet_repro.errors import UserError
from helpers import PROJECT, run_snakemake

DEMO = PROJECT / "configs" / "demo.yaml"
FOLDER_BAGNETS = "models: [bagnet33, resnet50]\nweights: {models: {bagnet33: none, resnet50: none}}\n"
FOLDER_CNN = "models: [resnet50]\nweights: {models: {resnet50: none}}\n"


def config_of(tmp_path: Path, base: Path, text: str) -> dict:
    """``base`` with ``text`` (YAML) over it, checked as the workflow checks it."""
    extra = tmp_path / "extra.yaml"
    extra.write_text(text)
    return check_config_files([extra], base)


def folder_config(tmp_path: Path, text: str) -> dict:
    (tmp_path / "images" / "a").mkdir(parents=True, exist_ok=True)
    return config_of(
        tmp_path, PROJECT / "config.yaml", f"data: {{source: folder, folder: {tmp_path / 'images'}}}\n" + text
    )


# (data set, config over it, the studies that run)
DEFAULTS = [
    ("url", "", {"backbones", "precision", "heatmaps", "sweep"}),
    ("local", "data: {source: local, local_dir: /data/scene15}\n", {"backbones", "precision", "heatmaps", "sweep"}),
    ("demo", None, set(STUDIES)),  # configs/demo.yaml sets feature_amounts.dataset
    ("folder, BagNets", FOLDER_BAGNETS, {"precision", "heatmaps", "sweep"}),
    ("folder, no BagNet", FOLDER_CNN, {"precision", "sweep"}),
    (
        "folder, feature amounts",
        FOLDER_CNN + "feature_amounts: {dataset: cifar10}\n",
        {"precision", "sweep", "feature_amounts"},
    ),
]


@pytest.mark.parametrize(("name", "text", "running"), DEFAULTS, ids=[row[0] for row in DEFAULTS])
def test_auto_gives_each_data_set_its_studies(tmp_path, name, text, running):
    if name.startswith("folder"):
        config = folder_config(tmp_path, text)
    elif text is None:
        config = config_of(tmp_path, DEMO, "")
    else:
        config = config_of(tmp_path, PROJECT / "config.yaml", text)
    studies = resolve_studies(config)
    assert {study for study, runs in studies.runs.items() if runs} == running
    assert bool(studies.backbones) == ("backbones" in running)
    if name in ("url", "local"):  # backbones.names auto: all of them (the demo lists a few)
        assert studies.backbones == list(BACKBONE_NAMES)
    assert studies.switched_off == () and switched_off_text(config) == ""


def test_switches_override_the_defaults(tmp_path):
    off = resolve_studies(config_of(tmp_path, PROJECT / "config.yaml", "studies: {backbones: false, heatmaps: false}"))
    assert not off.runs["backbones"] and not off.runs["heatmaps"] and off.backbones == []
    assert off.switched_off == ("heatmaps", "backbones")
    # true on a user's folder: all backbones for names auto, the listed ones otherwise
    on = resolve_studies(folder_config(tmp_path, FOLDER_CNN + "studies: {backbones: true}"))
    assert on.backbones == list(BACKBONE_NAMES)
    listed = folder_config(tmp_path, FOLDER_CNN + "studies: {backbones: true}\nbackbones: {names: [vovnet39]}")
    assert resolve_studies(listed).backbones == ["vovnet39"]
    # auto keeps backbones.names' own meaning: a list measures those on any data set
    kept = resolve_studies(folder_config(tmp_path, FOLDER_CNN + "backbones: {names: [resnet18]}"))
    assert kept.backbones == ["resnet18"]
    text = switched_off_text(config_of(tmp_path, PROJECT / "config.yaml", "studies: {heatmaps: false}"))
    assert text.startswith("The config's studies section switched off the patch heatmaps") and text.count(".") == 1


def test_the_sweep_and_the_precision_study_can_be_switched_off(tmp_path):
    config = config_of(tmp_path, PROJECT / "config.yaml", "studies: {precision: false, sweep: false}")
    studies = resolve_studies(config)
    assert not studies.runs["precision"] and not studies.runs["sweep"]
    assert studies.switched_off == ("sweep", "precision")
    assert switched_off_text(config) == (
        "The config's studies section switched off the scrambling sweep and the precision study, so this report "
        "leaves them out."
    )
    on = resolve_studies(config_of(tmp_path, PROJECT / "config.yaml", "studies: {precision: true, sweep: true}"))
    assert on.runs["precision"] and on.runs["sweep"] and on.switched_off == ()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("studies: {feature_amounts: true}", "'feature_amounts.dataset'"),
        ("studies: {heatmaps: true}\n" + FOLDER_CNN, "'models'"),
        ("studies: {backbones: true}\nbackbones: {names: []}", "'backbones.names'"),
    ],
)
def test_a_switch_that_cannot_hold_is_one_line_naming_the_key(tmp_path, text, key):
    with pytest.raises(UserError) as error:
        resolve_studies(config_of(tmp_path, PROJECT / "config.yaml", text))
    assert str(error.value).startswith(f"config error at {key}") and "\n" not in str(error.value)


def test_a_switch_is_auto_true_or_false(tmp_path):
    with pytest.raises(UserError, match="studies.heatmaps"):
        config_of(tmp_path, PROJECT / "config.yaml", "studies: {heatmaps: sometimes}")


def test_the_dry_run_follows_the_switches(tmp_path):
    rows = summary(tmp_path, "--configfile", str(DEMO))
    planned = {row["rule"] for row in rows}
    assert {"backbone_table", "heatmaps", "heatmap_figures", "feature_amount_table"} <= planned
    off = tmp_path / "off.yaml"
    off.write_text("studies: {backbones: false, heatmaps: false, feature_amounts: false}\n")
    rows = summary(tmp_path / "off", "--configfile", str(DEMO), str(off))
    planned = {row["rule"] for row in rows}
    assert not planned & {"backbone_table", "heatmaps", "heatmap_selection", "heatmap_figures", "feature_amount_run"}
    assert {"precision", "table1", "paper"} <= planned
    # the ImageNet BagNets' precision runs do not depend on the heatmaps
    assert any(row["output_file"].startswith("results/precision/") for row in rows)


def test_the_dry_run_without_the_sweep_and_the_precision_study(tmp_path):
    """No precision job nor its report, no sweep table or figure; evaluate is given no sweep grid; the report,
    the compute table and Table 1 are still planned."""
    off = tmp_path / "off.yaml"
    off.write_text("studies: {precision: false, sweep: false}\n")
    rows = summary(tmp_path / "off", "--configfile", str(DEMO), str(off))
    planned = {row["rule"] for row in rows}
    assert not planned & {"precision", "precision_report"}
    assert {"evaluate", "summarize", "table1", "compute_table", "paper_values", "paper"} <= planned
    files = {row["output_file"] for row in rows}
    assert not [f for f in files if f.startswith("results/precision/") or "sweep" in f or "dead_layers" in f]
    assert not [f for f in files if "weight_distribution" in f]
    shell = run_snakemake(tmp_path / "off", "-n", "-p", "--configfile", str(DEMO), str(off)).stdout
    evaluations = [line for line in shell.splitlines() if "bagnet_repro evaluate " in line]
    assert len(evaluations) == 8 and all('"sweep_grids": []' in line for line in evaluations)
    assert "--sweep " not in shell and "--precision " not in shell
