"""Config variants: the grid, its folder names, what cannot vary, and the plan (shared jobs once, each variant's
jobs under its own folder), refused in one line where the config is wrong."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from bagnet_repro.config.checks import check_workflow_config
from bagnet_repro.config.loading import SCHEMA
from bagnet_repro.config.variants import PER_RUN_PLACES, variant_grid, variant_name
from bagnet_repro.errors import UserError
from helpers import PROJECT, run_snakemake


def demo_config(**changes) -> dict:
    """config.yaml with configs/demo.yaml over it, as Snakemake merges them, then ``changes``, checked."""
    from snakemake.utils import update_config

    config = yaml.safe_load((PROJECT / "config.yaml").read_text())
    update_config(config, yaml.safe_load((PROJECT / "configs/demo.yaml").read_text()))
    config.update(changes)
    return check_workflow_config(config, None, SCHEMA)


def check(config):
    return check_workflow_config(config, None, SCHEMA)


def test_the_grid_is_every_combination_in_the_lists_order_each_a_whole_checked_config():
    config = demo_config(variants={"train.epochs": [1, 3], "evaluate.scramble_grid": [2, 4]})
    variants = variant_grid(config, check=check)
    assert [v.values for v in variants] == [
        {"train.epochs": 1, "evaluate.scramble_grid": 2},
        {"train.epochs": 1, "evaluate.scramble_grid": 4},
        {"train.epochs": 3, "evaluate.scramble_grid": 2},
        {"train.epochs": 3, "evaluate.scramble_grid": 4},
    ]
    assert variants[2].name == "train.epochs-3_evaluate.scramble_grid-2"
    assert variants[2].config["train"]["epochs"] == 3 and variants[2].config["evaluate"]["scramble_grid"] == 2
    assert variants[2].config["variants"] == {} and config["train"]["epochs"] != 3  # the base is untouched
    # the studies that run once beside the variants are not repeated in them
    assert variants[0].config["backbones"]["names"] == [] and variants[0].config["feature_amounts"]["dataset"] == "none"
    assert variants[0].replace_prefix()["results/models/"] == f"variants/{variants[0].name}/results/models/"
    assert set(variants[0].replace_prefix()) == set(PER_RUN_PLACES)


def test_folder_names_are_safe_paths_and_a_network_list_varies_too():
    assert variant_name({"models": ["bagnet17", "torchvision:resnet18"]}) == "models-bagnet17-torchvision-resnet18"
    config = demo_config(variants={"models": [["bagnet9"], ["bagnet17", "torchvision:resnet18"]]})
    names = [v.name for v in variant_grid(config, check=check)]
    assert names == ["models-bagnet9", "models-bagnet17-torchvision-resnet18"]
    assert all(set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789._+-") for name in names)


def test_a_sweep_that_followed_the_image_size_follows_each_variants_size():
    from snakemake.utils import update_config

    config = yaml.safe_load((PROJECT / "config.yaml").read_text())
    update_config(config, {"train": {"image_size": 48}, "variants": {"train.image_size": [32, 40]}})
    config = check(config)
    assert config["evaluate"]["sweep_grids"] == [1, 2, 3, 4, 6, 8]  # the default for 48 px
    grids = [v.config["evaluate"]["sweep_grids"] for v in variant_grid(config, check=check)]
    assert grids == [[1, 2, 4, 8], [1, 2, 4, 5, 8]]
    # grids the user gave stay as given
    given = demo_config(variants={"train.image_size": [32, 40]})
    assert [v.config["evaluate"]["sweep_grids"] for v in variant_grid(given, check=check)] == [[1, 2, 4, 8]] * 2


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"train.epoch": [1, 2]}, "config error at 'variants.train.epoch': train.epoch is not a key of the config"),
        ({"train.epochs": []}, "config error at 'variants.train.epochs': [] should be non-empty"),
        ({"data.source": ["demo", "url"]}, "config error at 'variants.data.source': data.* cannot vary"),
        ({"feature_amounts.depth": [14]}, "feature_amounts.* cannot vary (the feature-amount study runs once"),
        ({"train.epochs": [1, 0]}, "variant train.epochs-0: config error at 'train.epochs'"),
        ({"train.lr": [0.001, 1e-3]}, "would share the folder variants/train.lr-0.001"),
    ],
)
def test_a_bad_grid_is_one_line_naming_the_key_or_the_variant(variants, message):
    with pytest.raises(UserError) as error:  # the schema's check or the grid's
        variant_grid(demo_config(variants=variants), check=check)
    assert message in str(error.value) and "\n" not in str(error.value)


def config_errors(result) -> list[str]:
    assert result.returncode == 1, result.stderr[-3000:]
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("config error")]


def test_the_workflow_refuses_a_bad_grid_at_start_up_in_one_line(tmp_path):
    (tmp_path / "v.yaml").write_text("variants: {train.epochs: [1], data.source: [demo]}\n")
    result = run_snakemake(
        tmp_path, "-n", "variants", "--configfile", str(PROJECT / "configs/demo.yaml"), str(tmp_path / "v.yaml")
    )
    [line] = config_errors(result)
    assert line.startswith("config error at 'variants.data.source': data.* cannot vary")
    (tmp_path / "v.yaml").write_text("variants: {train.epochs: [1, 2]}\n")
    result = run_snakemake(
        tmp_path,
        "-n",
        "variants",
        "--config",
        "train={epochs: 3}",
        "--configfile",
        str(PROJECT / "configs/demo.yaml"),
        str(tmp_path / "v.yaml"),
    )
    [line] = config_errors(result)
    assert "--config also sets train.epochs" in line
    assert not (tmp_path / "results").exists() and not (tmp_path / "variants").exists()


def test_the_plan_runs_the_shared_jobs_once_and_each_variant_in_its_folder(tmp_path):
    (tmp_path / "v.yaml").write_text("models: [bagnet9, resnet50]\nvariants: {train.epochs: [1, 2]}\n")
    result = run_snakemake(
        tmp_path,
        "variants",
        "-n",
        "--quiet",
        "rules",
        "--configfile",
        str(PROJECT / "configs/demo.yaml"),
        str(tmp_path / "v.yaml"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    for shared in ("make_demo_data", "inventory", "split", "audit"):
        assert counts[shared] == 1
    for index in (0, 1):
        assert counts[f"variant{index}_train"] == 2 and counts[f"variant{index}_paper"] == 1
    assert counts["variants_table"] == 1 and "train" not in counts and "paper" not in counts
    # the default target is the main run alone: the variants are their own target
    default = run_snakemake(
        tmp_path, "-n", "--quiet", "rules", "--configfile", str(PROJECT / "configs/demo.yaml"), str(tmp_path / "v.yaml")
    )
    assert default.returncode == 0 and "variant0_train" not in default.stdout and "train " in default.stdout


def test_variant_configs_are_independent_copies():
    config = demo_config(variants={"train.epochs": [1, 2]})
    first, second = variant_grid(copy.deepcopy(config), check=check)
    first.config["train"]["epochs"] = -1
    assert second.config["train"]["epochs"] == 2 and config["train"]["epochs"] != -1


@pytest.mark.slow
def test_two_variants_of_the_demo_run_to_their_table_sharing_the_data_jobs(tmp_path):
    """One network, two epoch counts: each variant's own report, the data jobs once, the table and tests; killed
    once the first variant's training is done, the run resumes there."""
    import os
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "v.yaml").write_text(
        "models: [bagnet9]\nprecision: {max_images: 2}\nvariants: {train.epochs: [1, 2]}\n"
    )
    configs = ["--configfile", str(PROJECT / "configs/demo.yaml"), str(tmp_path / "v.yaml")]
    # One job at a time: once the second training's log appears, Snakemake has recorded the first as finished.
    command = [sys.executable, "-m", "snakemake", "-s", str(PROJECT / "Snakefile"), "--directory", str(tmp_path)]
    process = subprocess.Popen(
        [*command, "variants", "--cores", "1", *configs],
        cwd=PROJECT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT / "src")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    logs = [tmp_path / f"variants/train.epochs-{e}/logs/train/bagnet9_seed0.log" for e in (1, 2)]
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and not all(log.exists() for log in logs):
        time.sleep(0.05)
    trained = sorted(tmp_path.glob("variants/*/results/models/bagnet9/seed0/best.pt"))
    done = {path: path.stat().st_mtime_ns for path in trained}
    os.killpg(process.pid, signal.SIGKILL)  # Snakemake and its running job, as a power cut would
    process.wait()
    assert len(done) == 1, done
    assert run_snakemake(tmp_path, "--unlock", *configs).returncode == 0
    result = run_snakemake(tmp_path, "variants", "--cores", "2", *configs)
    assert result.returncode == 0, result.stderr[-4000:]
    names = ["train.epochs-1", "train.epochs-2"]
    for name in names:
        assert (tmp_path / f"variants/{name}/report/paper.pdf").is_file()
        assert not (tmp_path / f"variants/{name}/results/data").exists()  # the data are the project's, shared
    # Snakemake's records: one job made the manifest, and each variant's training read it
    from tiny_workflow import records

    made = records(tmp_path)
    assert made["results/data/manifest.tsv"]["rule"] == "split"
    assert {made[f"variants/{n}/results/models/bagnet9/seed0/best.pt"]["rule"] for n in names} == {
        "variant0_train",
        "variant1_train",
    }
    table = pd.read_csv(tmp_path / "report/tables/variants.csv")
    assert table[["train.epochs", "model", "epochs_run"]].values.tolist() == [[1, "bagnet9", 1.0], [2, "bagnet9", 2.0]]
    tests = pd.read_csv(tmp_path / "report/tables/variants_mcnemar.csv")
    assert set(tests.condition) == {"test", "scrambled_test"} and set(tests.pairing) == {"same seeds"}
    assert "## Paired tests between variants" in (tmp_path / "report/tables/variants.md").read_text()
    # the variants' PDF, read as a reader would: the grid, the network, the tests in words
    import pymupdf

    text = " ".join(page.get_text() for page in pymupdf.open(tmp_path / "report/variants.pdf")).replace("\n", " ")
    assert "2 variants of the config (train.epochs: 1, 2)" in text and "bagnet9" in text
    assert "Exact McNemar tests on the same test images" in text and "Holm" in text
    assert result.stderr.count("rule variant0_train:") + result.stderr.count("rule variant1_train:") == 1
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in done.items())  # kept, not retrained
    # a second start plans nothing: every variant is finished
    again = run_snakemake(
        tmp_path, "variants", "-n", "--configfile", str(PROJECT / "configs/demo.yaml"), str(tmp_path / "v.yaml")
    )
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_the_variants_pdf_says_what_the_numbers_say(tmp_path, monkeypatch):
    """Two variant folders (in the workflow's on-disk format) to the variants' table, figure and PDF."""
    import pymupdf
    from test_compare import write_run

    from bagnet_repro.runs.variants import write_variants_table

    monkeypatch.chdir(tmp_path)  # Typst's root: the working folder, as in a rule
    write_run(tmp_path / "variants/train.epochs-1", {"bagnet9": 8, "resnet50": 10})
    write_run(tmp_path / "variants/train.epochs-2", {"bagnet9": 18, "resnet50": 10})
    variants = [("variants/train.epochs-1", {"train.epochs": 1}), ("variants/train.epochs-2", {"train.epochs": 2})]
    out = {name: f"report/{name}" for name in ("v.csv", "v.md", "t.csv", "v.png", "v.pdf", "values.json", "r.pdf")}
    write_variants_table(
        variants,
        *(out[n] for n in ("v.csv", "v.md", "t.csv", "v.png", "v.pdf")),
        template=str(PROJECT / "workflow/report/variants.typ"),
        values=out["values.json"],
        pdf=out["r.pdf"],
    )
    table = pd.read_csv(out["v.csv"])
    assert table[["train.epochs", "model", "test_acc"]].values.tolist() == [
        [1, "bagnet9", 0.4],
        [1, "resnet50", 0.5],
        [2, "bagnet9", 0.9],
        [2, "resnet50", 0.5],
    ]
    text = " ".join(page.get_text() for page in pymupdf.open(out["r.pdf"])).replace("\n", " ")
    assert "2 variants of the config (train.epochs: 1, 2), each a full run of 2 networks (bagnet9, resnet50)" in text
    # bagnet9 differs (20 images right only in the second, over two seeds), resnet50 does not: only it is listed
    assert "4 tests, read together with Holm's correction; 2 find a difference" in text
    assert "bagnet9 on the test images: train.epochs-1 and train.epochs-2 differ" in text
    assert "resnet50 on the test images" not in text
