"""The workflow validates its config at start-up: one line naming the key, non-zero exit, no outputs."""

import pytest
import yaml

from helpers import PROJECT, run_snakemake


def _demo_config():
    return yaml.safe_load((PROJECT / "configs" / "demo.yaml").read_text())


@pytest.mark.parametrize("edit,expected", [
    (lambda c: c["train"].update(lr=-1), "config error at 'train.lr': -1 is less than or equal to the minimum of 0"),
    (lambda c: c["train"].update(epochs="many"), "config error at 'train.epochs': 'many' is not of type 'integer'"),
    (lambda c: c.update(models=["bagnet33", "vgg16"]), "config error at 'models.1': 'vgg16' is not one of"),
    (lambda c: c["train"].update(learning_rate=1), "config error at 'train': Additional properties are not allowed"),
    (lambda c: c["data"].update(source="ftp"), "config error at 'data.source': 'ftp' is not one of"),
    (lambda c: c["data"].update(source="url", urls=[{"url": "http://x/y.zip", "sha256": "abc"}]),
     "config error at 'data.urls.0.sha256': 'abc' does not match"),
    (lambda c: c.update(weights={"models": {"vgg16": "imagenet"}}), "config error at 'weights.models': 'vgg16' is not"),
    (lambda c: c.update(weights={"models": {"bagnet9": {"url": "x", "md5": "y"}}}),
     "config error at 'weights.models.bagnet9': "),
    (lambda c: c["weights"]["models"].update(bagnet9="pretrained"),
     "config error at 'weights.models.bagnet9': 'pretrained' needs pretrain.dataset"),
    (lambda c: c.update(pretrain={"dataset": "imagenette", "processes": 0}),
     "config error at 'pretrain.processes': 0 is less than the minimum of 1"),
])
def test_bad_config_fails_with_one_line(tmp_path, edit, expected):
    config = _demo_config()
    edit(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, "-n", "--configfile", str(path))
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("config error")]
    assert len(lines) == 1 and lines[0].startswith(expected), result.stdout + result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "report").exists()


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
    from bagnet_repro.training.finetune import _RANGES

    schema = yaml.safe_load((PROJECT / "workflow/schemas/config.schema.yaml").read_text())
    train = schema["properties"]["train"]["properties"]
    shared = sorted(set(_RANGES) & set(train))
    assert len(shared) == len(_RANGES) - 1  # all but seed (top-level seeds in the config)
    for name in shared:
        kind, low, low_open, high, high_open = _RANGES[name]
        entry = train[name]
        assert entry["type"] == ("integer" if kind is int else "number"), name
        assert entry.get("exclusiveMinimum" if low_open else "minimum") == low, name
        assert entry.get("exclusiveMaximum" if high_open else "maximum") == high, name
