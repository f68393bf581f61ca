"""The workflow's plan from config dicts alone (no Snakemake run): which studies run, each model's weights, the
device jobs' threads and GPUs, and the files each rule is given. The dry runs of tests/test_rules.py check the
same plan through Snakemake."""

import shlex
from pathlib import Path

import pytest

from bagnet_repro.config.checks import check_config_files
from bagnet_repro.config.workflow_plan import WorkflowPlan, fill
from bagnet_repro.errors import UserError
from helpers import PROJECT

PRETRAINED = "results/pretrained/{dataset}/{model}/weights.pt"
RECORD = "results/weights/{model}.json"


def plan_of(tmp_path: Path, text: str = "") -> WorkflowPlan:
    """The plan of config.yaml with ``text`` (YAML) over it, checked as the workflow checks it."""
    extra = tmp_path / "extra.yaml"
    extra.write_text(text)
    return WorkflowPlan(check_config_files([extra], PROJECT / "config.yaml"), PROJECT)


def test_default_config_plans_the_report(tmp_path):
    plan = plan_of(tmp_path)
    assert plan.models[:3] == ["bagnet9", "bagnet17", "bagnet33"] and plan.first_seed == 152
    assert plan.heatmap_models == ["bagnet9", "bagnet17", "bagnet33"] and plan.main_heatmap_model == "bagnet33"
    assert not plan.feature_amounts_run and plan.pretrain_outputs("s/{dataset}.tsv", PRETRAINED) == []
    assert plan.precision_runs()[-3:] == [("imagenet", m) for m in ("bagnet9", "bagnet17", "bagnet33")]


def test_device_jobs_ask_for_gpus_from_the_config(tmp_path):
    cpu = plan_of(tmp_path, "compute: {device: cpu, threads: 3}")
    assert cpu.device_job.threads == 3 and cpu.device_job.resources == {} and cpu.device_job.device == "cpu"
    gres = plan_of(tmp_path, "compute: {device: cuda, gpu_resource: gres}")
    assert gres.device_job.resources == {"gres": "gpu:1"}
    pretrain = plan_of(tmp_path, "pretrain: {device: cuda, processes: 4, threads: 8}").pretrain_job
    assert pretrain.resources == {"gpu": 4, "nodes": 1} and pretrain.threads == 8


def test_weights_of_each_kind(tmp_path):
    sha = "ab" * 32
    plan = plan_of(
        tmp_path,
        "models: [bagnet33_v2, bagnet9, resnet50]\n"
        "pretrain: {dataset: imagenette}\n"
        "weights: {cache: /c, models: {bagnet33_v2: pretrained, resnet50: none, "
        f"bagnet9: {{url: 'https://x.org/w.pth', sha256: {sha}}}}}}}",
    )
    pretrained = "results/pretrained/imagenette/bagnet33_v2/weights.pt"
    assert plan.weights_input("bagnet33_v2", RECORD, PRETRAINED) == pretrained
    assert shlex.split(plan.weights_options("bagnet33_v2", PRETRAINED)) == [
        "--weights",
        pretrained,
        "--weights-cache",
        "/c",
    ]
    assert plan.weights_record_option("bagnet33_v2", "r.json") == ""
    assert plan.weights_input("bagnet9", RECORD, PRETRAINED) == "results/weights/bagnet9.json"
    assert f"--weights-sha256 {sha}" in plan.weights_options("bagnet9", PRETRAINED)
    assert plan.weights_record_option("bagnet9", "r.json") == "--weights-record r.json"
    assert plan.weights_input("resnet50", RECORD, PRETRAINED) == []
    assert plan.pretrain_outputs("s/{dataset}.tsv", PRETRAINED)[0] == "s/imagenette.tsv"
    # no ImageNet BagNet weights fetched: the precision study runs on the trained models alone
    assert {source for source, _ in plan.precision_runs()} == {"trained"}


def test_data_sources(tmp_path):
    demo = plan_of(tmp_path, (PROJECT / "configs" / "demo.yaml").read_text())
    assert demo.data_root_input("d", "x") == "d" and demo.data_layout == "scene15" and demo.local_data_digest() == ""
    (tmp_path / "images" / "a").mkdir(parents=True)
    (tmp_path / "images" / "a" / "1.jpg").write_bytes(b"x")
    folder = plan_of(tmp_path, f"data: {{source: folder, folder: {tmp_path / 'images'}}}")
    assert folder.data_root_input("d", "x") == [] and folder.data_root([]) == str(tmp_path / "images")
    assert folder.data_layout == "folder" and len(folder.local_data_digest()) == 64


def test_studies_run_only_when_configured(tmp_path):
    plan = plan_of(tmp_path, "backbones: {names: []}\nmodels: [resnet50]\nweights: {models: {resnet50: none}}")
    files = plan.paper_files({"table1": "t.csv"}, {"heat": "h.pdf"}, {"fa": "f.tsv"}, {"bb": "b.csv"})
    assert files == {"table1": "t.csv"}
    assert plan.when(plan.backbone_names, ["b.csv"]) == [] and plan.when(True, ["b.csv"]) == ["b.csv"]
    study = plan_of(tmp_path, "feature_amounts: {dataset: cifar10, variants: {every: 40}}")
    assert study.feature_amounts_run and study.feature_amount_dir == "results/feature_amounts/cifar10_depth16"
    assert "fa" in study.paper_files({}, {}, {"fa": "f.tsv"}, {})
    assert study.feature_amount_data_file("m.tsv", "d/{dataset}.json") == "d/cifar10.json"


def test_feature_amount_variants_name_the_key_on_a_bad_selection(tmp_path):
    plan = plan_of(tmp_path, "feature_amounts: {dataset: cifar10, uniform: true}")

    def refuse(depth, variants, image_size):
        raise ValueError("no such variant")

    assert plan.feature_amount_variants(lambda depth, variants, image_size: [3, 1], "uniform") == ["3", "1", "uniform"]
    with pytest.raises(UserError, match=r"^config error at 'feature_amounts.variants': no such variant$"):
        plan.feature_amount_variants(refuse, "uniform")


def test_train_options_are_the_resolved_recipe(tmp_path):
    plan = plan_of(tmp_path, "train: {recipe: scratch, epochs: 3}")
    assert plan.train_settings["epochs"] == 3 and '"epochs": 3' in plan.train_options()


def test_fill_and_prediction_runs(tmp_path):
    plan = plan_of(tmp_path, "seeds: [1, 2]\nmodels: [bagnet9]")
    assert fill("a/{model}/{seed}", model="m", seed=1) == "a/m/1"
    assert [path for *_, path in plan.prediction_runs("p/{model}/{seed}")] == ["p/bagnet9/1", "p/bagnet9/2"]


def test_a_stage_is_given_its_section_less_the_planning_keys(tmp_path):
    import json

    plan = plan_of(tmp_path, "evaluate: {sweep_max_grid: 4}")
    assert json.loads(plan.section("evaluate")) == {
        "scramble_grid": 4,
        "scramble_seed": 0,
        "batch_size": 64,
        "precision": "fp32",
        "sweep_grids": [1, 2, 4],
    }
    backbones = json.loads(plan.section("backbones", names=plan.backbone_names))
    assert backbones["names"] == plan.backbone_names and backbones["latency_repeats"] == 5
    assert json.loads(plan.precision_section()) == {"max_images": None, "batch_size": 64}  # evaluate's batch
    assert set(json.loads(plan.section("feature_amounts"))) == {"dataset", "depth", "recipe", "options"}
    assert json.loads(plan.section("heatmaps")) == {"count": 3, "images": []}  # the images' choice only


@pytest.mark.parametrize("configfile", ["config.yaml", "configs/demo.yaml", "configs/folder_example.yaml"])
def test_every_key_a_rule_passes_a_declared_stage_is_one_of_its_options(tmp_path, configfile):
    """A key added to a stage's config section that only the planning or another stage reads must be left out
    of the section (PLANNING_ONLY), or every job of the stage stops at its --params check."""
    from bagnet_repro.cli import declared_stages
    from bagnet_repro.cli.stages import params_arguments

    stages = declared_stages()
    plan = plan_of(tmp_path, (PROJECT / configfile).read_text() if configfile != "config.yaml" else "")
    for name, section in (
        ("evaluate", plan.section("evaluate")),
        ("receptive-fields", plan.section("receptive_fields")),
        ("backbone-table", plan.section("backbones", names=plan.backbone_names)),
        ("make-demo-data", plan.section("data.demo")),
        ("split", plan.section("split")),
        ("download", plan.section("pretrain.imagenette", sha256="")),
        ("precision", plan.precision_section()),
        ("feature-amount-run", plan.section("feature_amounts")),
        ("select-heatmap-images", plan.section("heatmaps")),
    ):
        params_arguments(stages[name], section)  # raises UserError naming an unknown key


def test_studies_switched_off_leave_the_plan(tmp_path):
    plan = plan_of(tmp_path, "studies: {heatmaps: false, backbones: false}")
    assert plan.heatmap_models == [] and plan.main_heatmap_model is None and plan.backbone_names == []
    files = plan.paper_files({"table1": "t.csv"}, {"heat": "h.pdf"}, {"fa": "f.tsv"}, {"bb": "b.csv"})
    assert files == {"table1": "t.csv"}
    # the precision study still evaluates the original BagNets' ImageNet weights
    assert ("imagenet", "bagnet33") in plan.precision_runs()


def test_the_sweep_and_the_precision_study_switched_off_leave_the_plan(tmp_path):
    import json

    on = plan_of(tmp_path)
    assert on.sweep_run and on.precision_run and on.evaluate_section() == on.section("evaluate")
    assert json.loads(on.evaluate_section())["sweep_grids"] == [1, 2, 4, 7, 8]
    assert on.study_files("sweep", {"sweep": "s.csv"}) == {"sweep": "s.csv"}
    assert on.named_options({"sweep": "s.csv", "precision": "p.csv"}, "sweep", "precision") == (
        "--sweep s.csv --precision p.csv"
    )
    off = plan_of(tmp_path, "studies: {sweep: false, precision: false}")
    assert not off.sweep_run and not off.precision_run
    # evaluate runs Table 1's scrambled grid alone; everything else of its section is unchanged
    assert json.loads(off.evaluate_section()) == {**json.loads(on.evaluate_section()), "sweep_grids": []}
    assert off.precision_runs() == [] and off.precision_files("results/precision/{source}/{model}/modes.tsv") == []
    assert off.study_files("sweep", {"sweep": "s.csv"}) == {} and off.study_files("precision", {"p": "p"}) == {}
    assert off.named_options({"audit": "a.json"}, "sweep", "precision", "dead_layers") == ""
    # a rule's Namedlist: looked up by name (its `in` looks among the files)
    from snakemake.iocontainers import Namedlist

    files = Namedlist(fromdict={"dead_layers": "d.csv"})
    assert off.named_options(files, "sweep", "dead_layers") == "--dead-layers d.csv"


def test_a_section_within_a_section_is_given_by_its_dotted_name(tmp_path):
    import json

    plan = plan_of(tmp_path, "data: {demo: {width: 32}}\nsplit: {test_per_class: 7}")
    assert json.loads(plan.section("data.demo")) == {
        "train_per_class": 20,
        "test_per_class": 12,
        "width": 32,
        "height": 64,
        "seed": 0,
    }
    # the course protocol's count is inventory's (PLANNING_ONLY), the rest is split's
    assert json.loads(plan.section("split")) == {
        "seed": 152,
        "val_fraction": 0.2,
        "test_fraction": 0.2,
        "test_per_class": 7,
    }
