"""The workflow validates its config at start-up: one line naming the key, non-zero exit, no outputs."""

import pytest
import yaml
from planned import summary

from bagnet_repro.config.checks import check_workflow_config
from bagnet_repro.config.loading import SCHEMA, load_yaml_file
from bagnet_repro.config.schema import typed_by_schema
from bagnet_repro.errors import UserError
from helpers import PROJECT, run_cli, run_snakemake


def _demo_config():
    return yaml.safe_load((PROJECT / "configs" / "demo.yaml").read_text())


@pytest.mark.parametrize(
    "edit,expected",
    [
        (
            lambda c: c["train"].update(lr=-1),
            "config error at 'train.lr': -1 is less than or equal to the minimum of 0",
        ),
        (lambda c: c["train"].update(epochs="many"), "config error at 'train.epochs': 'many' is not of type 'integer'"),
        (lambda c: c.update(models=["bagnet33", "vgg16"]), "config error at 'models.1': 'vgg16' is not one of"),
        (
            lambda c: c["train"].update(learning_rate=1),
            "config error at 'train': Additional properties are not allowed",
        ),
        (lambda c: c["data"].update(source="ftp"), "config error at 'data.source': 'ftp' is not one of"),
        (
            lambda c: c["data"].update(source="url", urls=[{"url": "http://x/y.zip", "sha256": "abc"}]),
            "config error at 'data.urls.0.sha256': 'abc' does not match",
        ),
        (
            lambda c: c.update(weights={"models": {"vgg16": "imagenet"}}),
            "config error at 'weights.models': 'vgg16' is not",
        ),
        (
            lambda c: c.update(weights={"models": {"bagnet9": {"url": "x", "md5": "y"}}}),
            "config error at 'weights.models.bagnet9': ",
        ),
        (
            lambda c: c["weights"]["models"].update(bagnet9="pretrained"),
            "config error at 'weights.models.bagnet9': 'pretrained' needs pretrain.dataset",
        ),
        (
            lambda c: c.update(pretrain={"dataset": "imagenette", "processes": 0}),
            "config error at 'pretrain.processes': 0 is less than the minimum of 1",
        ),
    ],
)
def test_bad_config_fails_with_one_line(tmp_path, edit, expected):
    """The workflow's start-up and ``check-config`` run the same check: both refuse with the same line."""
    config = _demo_config()
    edit(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, "-n", "--configfile", str(path))
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("config error")]
    assert len(lines) == 1 and lines[0].startswith(expected), result.stdout + result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "report").exists()
    checked = run_cli("check-config", str(path))
    assert checked.returncode != 0 and checked.stderr.strip() == f"error: {lines[0]}", checked.stdout + checked.stderr


# What users type: Snakemake hands nested --config values over as strings (YAML's base loader).
@pytest.mark.parametrize(
    "override,trained",
    [
        (
            ["seeds=[152,153,154]"],
            {
                (m, s)
                for m in ("bagnet9", "bagnet17", "bagnet33", "resnet50", "densenet121", "densenet169", "cbam_resnet50")
                for s in ("152", "153", "154")
            },
        ),
        (["models=[bagnet33,resnet50]"], {("bagnet33", "152"), ("resnet50", "152")}),
        (
            [
                "models=[bagnet33,resnet50]",
                "seeds=[7,8]",
                "train={epochs: 3, lr: 0.001, patience: 2}",
                "compute={device: cpu, threads: 4}",
            ],
            {(m, s) for m in ("bagnet33", "resnet50") for s in ("7", "8")},
        ),
    ],
)
def test_config_overrides_as_users_type_them(tmp_path, override, trained):
    rows = summary(tmp_path, "--config", *override)
    best = {
        tuple(row["output_file"].split("/")[2:4])
        for row in rows
        if row["rule"] == "train" and row["output_file"].endswith("best.pt")
    }
    assert best == {(model, f"seed{seed}") for model, seed in trained}
    assert all(row["plan"] == "update pending" for row in rows if row["rule"] == "train")


def test_nested_override_values_are_typed_by_the_schema(tmp_path):
    result = run_snakemake(
        tmp_path,
        "results/models/bagnet33/seed152/best.pt",
        "-n",
        "-p",
        "--config",
        "train={epochs: 3, lr: 0.001, augment: none}",
        "compute={device: cpu}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    command = next(line for line in result.stdout.splitlines() if "bagnet_repro train" in line)
    assert '"epochs": 3,' in command and '"lr": 0.001,' in command and '"augment": "none"' in command
    assert "--device cpu" in command


def test_typed_by_schema_converts_only_what_the_schema_types():
    schema = load_yaml_file(SCHEMA)
    overrides = {
        "seeds": ["1", "2"],
        "train": {"epochs": "3", "lr": "1e-3", "mix": "none"},
        "weights": {"models": {"bagnet9": "none"}, "cache": "null"},
        "models": ["bagnet9"],
        "feature_amounts": {"uniform": "true", "variants": ["1", "2"]},
        "heatmaps": {"images": ["12"]},
    }
    typed = typed_by_schema(overrides, schema)
    assert typed["seeds"] == [1, 2] and typed["train"] == {"epochs": 3, "lr": 0.001, "mix": "none"}
    assert typed["weights"] == {"models": {"bagnet9": "none"}, "cache": None}
    assert typed["feature_amounts"]["uniform"] is True
    assert typed["heatmaps"]["images"] == ["12"]  # image names are strings even when they read as numbers
    assert typed_by_schema({"train": {"epochs": "many"}}, schema) == {"train": {"epochs": "many"}}


def test_check_workflow_config_names_an_override_that_is_still_wrong():
    config = load_yaml_file(PROJECT / "config.yaml")
    with pytest.raises(UserError, match=r"^config error at 'train.epochs': 'many' is not of type 'integer'$"):
        check_workflow_config(config, {"train": {"epochs": "many"}})


def test_demo_and_full_configs_plan_all_models(tmp_path):
    # The full config fetches the report's pretrained weights; the demo (random init, plus VoVNet-19-slim)
    # downloads nothing.
    for args, fetches, runs in (([], 7, 7), (["--configfile", str(PROJECT / "configs" / "demo.yaml")], 0, 8)):
        result = run_snakemake(tmp_path, "-n", *args)
        assert result.returncode == 0, result.stderr
        plan = result.stdout + result.stderr
        assert plan.count("rule train:") == runs and plan.count("rule evaluate:") == runs
        assert plan.count("rule fetch_weights:") == fetches
        assert plan.count("rule backbone_table:") == 1


def test_the_recipe_preset_is_the_one_place_of_its_values(tmp_path):
    # Only the recipe changes: the train command must run with the modern preset's values, not the report's.
    config = tmp_path / "modern.yaml"
    config.write_text("train: {recipe: modern}\n")
    target = "results/models/bagnet33/seed152/best.pt"
    result = run_snakemake(tmp_path, target, "-n", "-p", "--configfile", str(config))
    assert result.returncode == 0, result.stderr
    command = next(line for line in result.stdout.splitlines() if "bagnet_repro train" in line)
    assert "--recipe modern" in command
    assert '"lr": 0.5' in command and '"batch_size": 1024' in command and '"optimizer": "sgd"' in command
    report = run_snakemake(tmp_path, target, "-n", "-p")
    command = next(line for line in report.stdout.splitlines() if "bagnet_repro train" in line)
    assert '"lr": 4e-05' in command and '"batch_size": 4' in command and '"epochs": 40' in command


def test_training_ranges_in_the_package_equal_the_schemas():
    """--options reach TrainSettings without the schema: both must state the same bounds."""
    from bagnet_repro.config.train_settings import RANGES

    schema = yaml.safe_load((SCHEMA).read_text())
    train = schema["properties"]["train"]["properties"]
    shared = sorted(set(RANGES) & set(train))
    assert len(shared) == len(RANGES) - 1  # all but seed (top-level seeds in the config)
    for name in shared:
        kind, low, low_open, high, high_open = RANGES[name]
        entry = train[name]
        assert entry["type"] == ("integer" if kind is int else "number"), name
        assert entry.get("exclusiveMinimum" if low_open else "minimum") == low, name
        assert entry.get("exclusiveMaximum" if high_open else "maximum") == high, name


def test_training_choices_in_the_package_equal_the_schemas():
    """The schema's train.* enums are the settings' choices (config/train_settings.py is their one copy)."""
    from bagnet_repro.config.train_settings import CHOICES, TrainSettings

    train = yaml.safe_load(SCHEMA.read_text())["properties"]["train"]["properties"]
    enums = {name: tuple(entry["enum"]) for name, entry in train.items() if "enum" in entry}
    # normalization is the feature-amount study's alone: fine-tuning refuses anything but imagenet.
    assert enums == {name: choices for name, choices in CHOICES.items() if name != "normalization"}
    defaults = TrainSettings(model="bagnet9")
    for name, choices in CHOICES.items():
        assert getattr(defaults, name) in choices, name


def test_every_recipe_names_known_choices():
    from bagnet_repro.config.recipes import RECIPES
    from bagnet_repro.config.train_settings import CHOICES
    from bagnet_repro.feature_amounts.data import BY_DATASET

    for recipe, values in RECIPES.items():
        for name in set(values) & set(CHOICES):
            allowed = (*CHOICES[name], BY_DATASET) if recipe == "feature_amounts" else CHOICES[name]
            assert values[name] in allowed, (recipe, name)


def test_precisions_are_the_autocast_dtypes_and_auto():
    from bagnet_repro.config.train_settings import PRECISIONS
    from bagnet_repro.evaluation.inference import AUTOCAST_DTYPES

    assert (*AUTOCAST_DTYPES, "auto") == PRECISIONS


def test_training_settings_need_no_torch():
    """The Snakefile and the CLI's parsing read the settings where PyTorch may be absent or slow to import."""
    import subprocess
    import sys

    code = "import sys, bagnet_repro.config.train_settings, bagnet_repro.config.recipes; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("select", "top5", "unknown selection metric 'top5'; choose one of: val_acc, val_loss"),
        ("precision", "int8", "unknown precision 'int8'; choose one of: fp32, bf16, fp16, auto"),
        ("normalization", "zca", "unknown normalization 'zca'; choose one of: imagenet, data, none"),
    ],
)
def test_an_unknown_choice_is_one_line_naming_the_choices(name, value, line):
    from bagnet_repro.config.train_settings import TrainSettings, check_choices

    with pytest.raises(UserError) as error:
        check_choices(TrainSettings(model="bagnet9", **{name: value}))
    assert str(error.value) == line


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            {"pretrain": {"options": {"optimizer": "lamb"}}},
            "config error at 'pretrain.options.optimizer': 'lamb' is not one of: adam, adamw, sgd",
        ),
        (
            {"feature_amounts": {"options": {"scheduler": "onecycle"}}},
            "config error at 'feature_amounts.options.scheduler': 'onecycle' is not one of: "
            "none, step, cosine, sgdr, sgdr_authors",
        ),
    ],
)
def test_a_choice_in_an_option_map_is_checked_when_the_workflow_plans(options, line):
    """The option maps are free in the schema; their choices are the settings' (config/train_settings.py)."""
    from bagnet_repro.config.loading import merged

    with pytest.raises(UserError) as error:
        check_workflow_config(merged(load_yaml_file(PROJECT / "config.yaml"), options))
    assert str(error.value) == line
    allowed = {"feature_amounts": {"options": {"augment": "by_dataset"}}}
    check_workflow_config(merged(load_yaml_file(PROJECT / "config.yaml"), allowed))
