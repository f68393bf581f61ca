"""Shared helpers: config validation, the package command, per-model and data-source inputs."""

import json
import os
import shlex
import sys
from pathlib import Path

from snakemake import __version__ as SNAKEMAKE_VERSION
from snakemake.utils import validate

# The package's torch-free modules (model names, recipe presets, config checks) are on sys.path from the
# Snakefile, so the model list and the presets live in the package alone.
from bagnet_repro import catalog
from bagnet_repro.config_checks import archive_name, cross_field_problems, schema_problem
from bagnet_repro.data.listing import listing_digest
from bagnet_repro.errors import UserError
from bagnet_repro.training.recipes import recipe_values

PROJECT_DIR = Path(workflow.basedir)
SCHEMA = PROJECT_DIR / "workflow" / "schemas" / "config.schema.yaml"

# The rules call the package from its source tree, so the same command works in the project's venv and
# in the conda environments of envs/ (which hold the dependencies, not the package itself).
_SRC_ON_PATH = f"PYTHONPATH={shlex.quote(str(PROJECT_DIR / 'src'))}${{PYTHONPATH:+:$PYTHONPATH}}"
BAGNET = f"{_SRC_ON_PATH} python -m bagnet_repro"
# torchrun on one node; --standalone picks a free rendezvous port, so several jobs can share a node.
TORCHRUN = f"{_SRC_ON_PATH} python -m torch.distributed.run --standalone --nnodes 1"
# Every notebook rule: input.notebook executed into output.notebook with params.parameters (a JSON object
# of explicit input and output paths); the package's drawing helpers are importable from the kernel.
_SRC_ON_PATH_IN_SHELL = _SRC_ON_PATH.replace("{", "{{").replace("}", "}}")  # braces survive formatting
PAPERMILL = (
    f"{_SRC_ON_PATH_IN_SHELL} papermill {{input.notebook:q}} {{output.notebook:q}} -k python3 --cwd . "
    "-y {params.parameters:q} > {log} 2>&1"
)


# Verified downloads are kept here as well as in the rule's output (a hard link): Snakemake deletes an
# output before rerunning its rule (e.g. after a pinned sha256 changed), and the kept copy is reused when
# it still verifies, or replaced only once a new download does. Partial transfers (.part) wait here too.
DOWNLOAD_STORE = "results/downloads/.verified"


_problem = schema_problem(config, SCHEMA)
if _problem:
    sys.exit(_problem)
validate(config, SCHEMA)  # fills in the schema's defaults
for _problem in cross_field_problems(config):
    sys.exit(_problem)


def models():
    return config["models"]


def data_source():
    return config["data"]["source"]


def archive_names():
    """File names of the configured downloads, in order (the last path component of each URL)."""
    return [archive_name(entry) for entry in config["data"]["urls"]]


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


def local_data_digest():
    """For ``source: local``, a digest of data.local_dir's listing (see data/listing.py): a parameter of the
    inventory rule, so pointing at another folder or changing a file in it reruns the inventory and all
    that depends on it. The other sources are outputs of this workflow, which Snakemake tracks itself."""
    if data_source() != "local":
        return ""
    return listing_digest(config["data"]["local_dir"])


def seeds():
    return config["seeds"]


def train_settings():
    """The training settings of the config: the recipe's preset with the keys given under ``train:`` on top.

    Resolved here so each train command shows every value it runs with (and a change of recipe reruns it)."""
    overrides = {k: v for k, v in config["train"].items() if k != "recipe"}
    try:
        return recipe_values(config["train"]["recipe"], overrides)
    except UserError as exc:
        sys.exit(f"config error at 'train.recipe': {exc}")


def train_options(wildcards):
    """The resolved training settings, as a quoted JSON object."""
    return shlex.quote(json.dumps(train_settings(), sort_keys=True))


def compute():
    """Device and CPU threads of the train, evaluate, heatmap and precision jobs."""
    return config["compute"]


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


def job_gpus():
    """1 when compute.device is CUDA, so schedulers reserve a GPU for the job."""
    return int(uses_cuda(compute()["device"]))


def pretrain_gpus():
    """One GPU per torchrun process when pretraining on CUDA (CPU ranks need none)."""
    return config["pretrain"]["processes"] if uses_cuda(config["pretrain"]["device"]) else 0


def pretrain_options(wildcards):
    """pretrain.options (TrainSettings overrides of the recipe) as a quoted JSON object."""
    return shlex.quote(json.dumps(config["pretrain"]["options"], sort_keys=True))


def heatmap_models():
    """The original BagNets among the configured models (exact stride-1 heatmaps), smallest patch first."""
    return catalog.heatmap_models(models())


def main_heatmap_model():
    """The BagNet that picks the heatmap images and draws Figures 2 and 4 (the largest patch)."""
    return catalog.main_heatmap_model(models())


HEATMAP_FIGURES = ("heatmaps_classes", "heatmaps_models", "heatmaps_scrambled")


def heatmap_outputs():
    if not heatmap_models():
        return []
    return [f"report/figures/{name}.{ext}" for name in HEATMAP_FIGURES for ext in ("pdf", "png")]


def imagenette_archive():
    url = config["pretrain"]["imagenette"]["url"]
    return archive_name({"url": url})


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
            sys.exit(
                f"config error at 'weights.models.{model}': 'pretrained' needs pretrain.dataset "
                "(imagenet or imagenette)"
            )


check_pretrained_weights()


def max_images_arg(wildcards):
    limit = config["precision"]["max_images"]
    return f"--max-images {limit}" if limit else ""


PRECISION_SOURCES = ("trained", "imagenet")


def precision_runs():
    """(source, model) of the precision study: every trained model (first seed), plus the original ImageNet
    BagNets whose weights the config fetches."""
    trained = [("trained", m) for m in models()]
    imagenet = [("imagenet", m) for m in heatmap_models() if model_weights(m) == "imagenet"]
    return trained + imagenet


def precision_inputs(name):
    return [f"results/precision/{source}/{model}/{name}" for source, model in precision_runs()]


def precision_model_input(wildcards):
    """A trained run's best.pt (first seed), or the verified ImageNet weights of an original BagNet."""
    if wildcards.source == "trained":
        return f"results/models/{wildcards.model}/seed{seeds()[0]}/best.pt"
    return f"results/weights/{wildcards.model}.json"


def precision_model_args(wildcards, input):
    if wildcards.source == "trained":
        return f"--checkpoint {shlex.quote(input.model)}"
    cache = config["weights"]["cache"]
    return f"--model {wildcards.model}" + (f" --weights-cache {shlex.quote(cache)}" if cache else "")


def prediction_runs():
    """(model, seed, predictions file) of every evaluated run, in the config's order."""
    return [(m, s, f"results/predictions/{m}/seed{s}.tsv") for m in models() for s in seeds()]


# The feature-amount study (seed 001): its folder names the data set and depth, so studies do not mix.
FEATURE_AMOUNT_STUDY = f"{config['feature_amounts']['dataset']}_depth{config['feature_amounts']['depth']}"
FEATURE_AMOUNT_DIR = f"results/feature_amounts/{FEATURE_AMOUNT_STUDY}"
FEATURE_AMOUNT_DOWNLOADS = ("cifar10", "cifar100", "mnist", "fashionmnist", "kmnist")


def feature_amount_variants():
    """The configured model ids (in the family's order), then the uniform network if asked for."""
    # Imported and computed only when the study's outputs are asked for: the family needs numpy and scipy,
    # and every start (every cluster job parses the workflow) would otherwise pay for it.
    from bagnet_repro.feature_amounts.family import UNIFORM, select_ids

    study = config["feature_amounts"]
    image_size = study["options"].get("image_size", 32)
    try:
        ids = select_ids(study["depth"], study["variants"], image_size)
    except ValueError as exc:
        sys.exit(f"config error at 'feature_amounts.variants': {exc}")
    return [str(i) for i in ids] + ([UNIFORM] if study["uniform"] else [])


def feature_amount_metrics():
    return expand(
        f"{FEATURE_AMOUNT_DIR}/{{variant}}/seed{{seed}}/metrics.json",
        variant=feature_amount_variants(),
        seed=config["feature_amounts"]["seeds"],
    )


def feature_amount_cache():
    """Where torchvision's data sets are downloaded once per machine."""
    configured = config["feature_amounts"]["cache"]
    if configured:
        return configured
    base = os.environ.get("BAGNET_REPRO_CACHE") or os.path.expanduser("~/.cache/bagnet-repro")
    return os.path.join(base, "datasets")


def feature_amount_data_file():
    """The run's data: this workflow's manifest (scene15), or the record of the downloaded data set."""
    dataset = config["feature_amounts"]["dataset"]
    if dataset == "scene15":
        return "results/data/manifest.tsv"
    return f"results/feature_amounts/data/{dataset}.json"


def feature_amount_options(wildcards):
    """feature_amounts.options (TrainSettings keys over the recipe) as a quoted JSON object."""
    return shlex.quote(json.dumps(config["feature_amounts"]["options"], sort_keys=True))


def feature_amount_outputs():
    if config["feature_amounts"]["dataset"] == "none":
        return []
    figures = [
        f"report/figures/feature_amounts_{name}.{ext}"
        for name in ("accuracy", "profiles", "parameters")
        for ext in ("pdf", "png")
    ]
    return ["report/tables/feature_amounts.tsv", "report/figures/feature_amounts.html"] + figures


def backbone_names():
    """The backbones of seed 003's table (backbones.names: all, or a list; [] skips the table)."""
    names = config["backbones"]["names"]
    return list(catalog.BACKBONE_NAMES) if names == "all" else names


def backbone_outputs():
    return [f"report/tables/backbones.{ext}" for ext in ("csv", "md", "tex")] if backbone_names() else []


def paper_files():
    """Name -> file of every table and figure the report includes (the studies' only when configured)."""
    files = {
        "figure1": "report/tables/figure1.csv",
        "table1": "report/tables/table1.csv",
        "mcnemar": "report/tables/mcnemar.csv",
        "scramble_sweep": "report/figures/scramble_sweep.pdf",
        "training_curves": "report/figures/training_curves.pdf",
        "weight_distribution": "report/figures/weight_distribution.pdf",
    }
    if heatmap_models():
        files.update({name: f"report/figures/{name}.pdf" for name in HEATMAP_FIGURES})
    if config["feature_amounts"]["dataset"] != "none":
        files["feature_amounts_table"] = "report/tables/feature_amounts.tsv"
        files["feature_amounts_accuracy"] = "report/figures/feature_amounts_accuracy.pdf"
    if backbone_names():
        files["backbones"] = "report/tables/backbones.csv"
    return files


def all_outputs():
    return (
        ["report/paper.pdf"]
        + pretrain_outputs()
        + feature_amount_outputs()
        + backbone_outputs()
        + heatmap_outputs()
        + [
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
    )
