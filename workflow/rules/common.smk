"""Shared helpers: config validation, the package command, per-model and data-source inputs."""

import json
import shlex
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import jsonschema
import yaml
from snakemake.utils import validate

PROJECT_DIR = Path(workflow.basedir)
SCHEMA = PROJECT_DIR / "workflow" / "schemas" / "config.schema.yaml"
MODEL_NAMES = [
    "bagnet9",
    "bagnet17",
    "bagnet33",
    "bagnet9_v2",
    "bagnet17_v2",
    "bagnet33_v2",
    "resnet50",
    "densenet121",
    "densenet169",
    "cbam_resnet50",
]
# The rules call the package from its source tree, so the same command works in the project's venv and
# in the conda environments of envs/ (which hold the dependencies, not the package itself).
_SRC_ON_PATH = f"PYTHONPATH={shlex.quote(str(PROJECT_DIR / 'src'))}${{PYTHONPATH:+:$PYTHONPATH}}"
BAGNET = f"{_SRC_ON_PATH} python -m bagnet_repro"
# torchrun on one node; --standalone picks a free rendezvous port, so several jobs can share a node.
TORCHRUN = f"{_SRC_ON_PATH} python -m torch.distributed.run --standalone --nnodes 1"


def config_error_line(instance, schema_path):
    """The first schema violation as one line naming the key, or None when the config is valid."""
    with open(schema_path) as handle:
        schema = yaml.safe_load(handle)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    if not errors:
        return None
    error = jsonschema.exceptions.best_match(errors)
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"config error at '{key}': {error.message}"


_problem = config_error_line(config, SCHEMA)
if _problem:
    sys.exit(_problem)
validate(config, SCHEMA)  # fills in the schema's defaults

def models():
    return config["models"]


def data_source():
    return config["data"]["source"]


def archive_names():
    """File names of the configured downloads, in order (the last path component of each URL)."""
    return [entry.get("name") or PurePosixPath(urlsplit(entry["url"]).path).name for entry in config["data"]["urls"]]


def archive_entry(name):
    return dict(zip(archive_names(), config["data"]["urls"]))[name]


def data_root_input():
    """Input of the inventory step; the demo folder, the extracted downloads, or nothing (local dir)."""
    source = data_source()
    if source == "demo":
        return "results/data/demo"
    if source == "url":
        return "results/data/extracted"
    return []


def data_root_path(wildcards, input):
    """The folder the inventory lists: the rule's input, or ``data.local_dir``."""
    return input[0] if input else config["data"]["local_dir"]


def seeds():
    return config["seeds"]


def train_options(wildcards):
    """The config's training keys that override the recipe preset, as a quoted JSON object."""
    options = {k: v for k, v in config["train"].items() if k not in ("recipe", "device", "threads")}
    return shlex.quote(json.dumps(options, sort_keys=True))


def per_seed(pattern, model_list=None):
    """``pattern`` (with {model} and {seed}) for every configured model and seed."""
    return expand(pattern, model=model_list if model_list is not None else models(), seed=seeds())


def model_weights(model):
    """The configured weights of ``model``: a keyword, path/URL, or {url, sha256}; "none" if unlisted.

    ``pretrained`` becomes the weights file of this workflow's own pretraining (rule pretrain)."""
    value = config["weights"]["models"].get(model, "none")
    if value == "pretrained":
        return pretrained_weights(model)
    return value


def pretrained_weights(model):
    return f"results/pretrained/{config['pretrain']['dataset']}/{model}/weights.pt"


def weights_record_input(wildcards):
    """Training waits for the verified download (a localrule on the submit host) or for the pretraining."""
    value = config["weights"]["models"].get(wildcards.model, "none")
    if value == "none":
        return []
    if value == "pretrained":
        return pretrained_weights(wildcards.model)
    return f"results/weights/{wildcards.model}.json"


def weights_args(wildcards):
    """``--weights ... [--weights-sha256 ...] [--weights-cache ...]`` for the package command."""
    value = model_weights(wildcards.model)
    args = ["--weights", value["url"] if isinstance(value, dict) else value]
    if isinstance(value, dict) and value.get("sha256"):
        args += ["--weights-sha256", value["sha256"]]
    if config["weights"]["cache"]:
        args += ["--weights-cache", config["weights"]["cache"]]
    return " ".join(shlex.quote(str(arg)) for arg in args)


def split_file_input():
    split_file = config["data"].get("split_file")
    return [split_file] if split_file else []


_cuda_available = None


def uses_cuda(device):
    """Whether ``device`` is (or auto-resolves to) CUDA on this machine."""
    global _cuda_available
    if device == "cpu":
        return False
    if device.startswith("cuda"):
        return True
    if _cuda_available is None:
        try:
            import torch

            _cuda_available = torch.cuda.is_available()
        except ImportError:
            _cuda_available = False
    return _cuda_available


def train_gpus():
    """1 when the training device is CUDA, so schedulers reserve a GPU."""
    return int(uses_cuda(config["train"]["device"]))


def pretrain_gpus():
    """One GPU per torchrun process when pretraining on CUDA (CPU ranks need none)."""
    return config["pretrain"]["processes"] if uses_cuda(config["pretrain"]["device"]) else 0


def pretrain_options(wildcards):
    """pretrain.options (TrainSettings overrides of the recipe) as a quoted JSON object."""
    return shlex.quote(json.dumps(config["pretrain"]["options"], sort_keys=True))


def heatmap_models():
    """The original BagNets among the configured models: the ones with exact stride-1 heatmaps."""
    return [m for m in models() if m in ("bagnet9", "bagnet17", "bagnet33")]


def heatmap_outputs():
    if not heatmap_models():
        return []
    names = ["heatmaps_classes", "heatmaps_models", "heatmaps_scrambled"]
    return [f"report/figures/{name}.{ext}" for name in names for ext in ("pdf", "png")]


def imagenette_archive():
    url = config["pretrain"]["imagenette"]["url"]
    return PurePosixPath(urlsplit(url).path).name


def imagenet_download_record(wildcards):
    """With imagenet_source kaggle, the validation folders wait for the download (a localrule)."""
    return ["results/pretrain/imagenet_kaggle.json"] if config["pretrain"]["imagenet_source"] == "kaggle" else []


def pretrain_data_input(wildcards):
    if wildcards.dataset == "imagenette":
        return "results/pretrain/imagenette"
    return "results/pretrain/imagenet_val.json"


def pretrain_train_dir(wildcards, input):
    """The training images of the pretraining set (class folders)."""
    if wildcards.dataset == "imagenette":
        tops = [p for p in Path(input[0]).iterdir() if p.is_dir()]
        return str(tops[0] / "train") if len(tops) == 1 and (tops[0] / "train").is_dir() else f"{input[0]}/train"
    return f"{config['pretrain']['imagenet_dir']}/ILSVRC/Data/CLS-LOC/train"


def pretrain_outputs():
    dataset = config["pretrain"]["dataset"]
    if dataset == "none":
        return []
    return [f"results/pretrain/{dataset}_split.tsv"] + [pretrained_weights(m) for m in config["pretrain"]["models"]]


def check_pretrained_weights():
    """``weights: pretrained`` needs a pretraining dataset; say so before anything runs."""
    for model, value in config["weights"]["models"].items():
        if value == "pretrained" and config["pretrain"]["dataset"] == "none":
            sys.exit(f"config error at 'weights.models.{model}': 'pretrained' needs pretrain.dataset "
                     "(imagenet or imagenette)")


check_pretrained_weights()


def max_images_arg(wildcards):
    limit = config["precision"]["max_images"]
    return f"--max-images {limit}" if limit else ""


def precision_inputs(name):
    """Per-model files of the precision study: every trained model, plus the original ImageNet BagNets
    whose weights the config fetches."""
    trained = [f"results/precision/{m}/{name}" for m in models()]
    imagenet = [f"results/precision_imagenet/{m}/{name}" for m in heatmap_models() if model_weights(m) == "imagenet"]
    return trained + imagenet


def all_outputs():
    return pretrain_outputs() + heatmap_outputs() + [
        "report/tables/precision.csv",
        "report/tables/dead_layers.csv",
        "report/figures/weight_distribution.pdf",
        "report/tables/mcnemar.csv",
        "report/figures/scramble_sweep.pdf",
        "report/tables/table1.csv",
        "report/tables/table1.md",
        "report/tables/table1.tex",
        "report/figures/training_curves.pdf",
        "report/figures/training_curves.png",
        "report/tables/figure1.csv",
        "report/tables/receptive_fields.csv",
        "results/data/audit.tsv",
        "results/data/audit_summary.json",
    ]
