"""Shared pieces: the config check, the package command, per-model helpers, each stage's planning helpers (a
section per stage, named after its rule file) and the final targets.

The helpers live here rather than beside their rules because Snakemake's linter asks rule files to hold rules
alone; what needs no Snakemake is in bagnet_repro.config.planning."""

import json
import os
import shlex
import sys
from pathlib import Path

from snakemake import __version__ as SNAKEMAKE_VERSION

# The package's torch-free modules (model names, recipe presets, config checks) are on sys.path from the
# Snakefile, so the model list and the presets live in the package alone.
from bagnet_repro.config import catalog, planning
from bagnet_repro.config import datasets as data_catalog
from bagnet_repro.config.cache_paths import datasets_cache
from bagnet_repro.config.checks import check_workflow_config
from bagnet_repro.config.executors import missing_slurm
from bagnet_repro.config.file_names import model_file_name, model_file_names, model_from_file_name
from bagnet_repro.config.listing import listing_digest
from bagnet_repro.config.loading import SCHEMA
from bagnet_repro.config.recipes import recipe_values
from bagnet_repro.config.report_words import report_words
from bagnet_repro.config.urls import archive_name
from bagnet_repro.errors import UserError

PROJECT_DIR = Path(WORKFLOW_DIR)  # the workflow's own checkout (the Snakefile), also where it is a module

# The rules call the package from its source tree, so the same command works in the project's venv and in
# the conda environments of envs/ (which hold the dependencies, not the package). The checkout's path is in
# the shell prefix alone: Snakemake compares a rule's params, inputs and shell text, not the prefix, so a
# finished run moved or cloned elsewhere is still finished.
shell.prefix(
    "set -euo pipefail; "
    f"export BAGNET_REPRO_PROJECT={shlex.quote(str(PROJECT_DIR))}; "
    f"export PYTHONPATH={shlex.quote(str(PROJECT_DIR / 'src'))}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
)
BAGNET = "python -m bagnet_repro"
# torchrun on one node; --standalone picks a free rendezvous port, so several jobs can share a node.
TORCHRUN = "python -m torch.distributed.run --standalone --nnodes 1"
# Every notebook rule: input.notebook executed into output.notebook with params.parameters (a JSON object
# of explicit input and output paths); the package's drawing helpers are importable from the kernel.
PAPERMILL = "papermill {input.notebook:q} {output.notebook:q} -k python3 --cwd . -y {params.parameters:q} > {log} 2>&1"


def source_file(relative):
    """A tracked file of the checkout (a notebook, the report template), as a path from the working folder,
    so the rule's input names the same file wherever the checkout and its results move together.

    Not workflow.source_path: it records the file's absolute path as the input, so a run moved with its
    checkout would rerun every notebook (Snakemake's input trigger)."""
    return os.path.relpath(PROJECT_DIR / relative)


try:
    check_workflow_config(config, workflow.config_settings.config, SCHEMA)
except UserError as _error:
    sys.exit(str(_error))

if workflow.is_main_process and (_no_slurm := missing_slurm(sys.argv)):
    sys.exit(f"error: {_no_slurm}")

if config["compute"]["rerun_on_code_change"]:
    # Opt-in: the package code's digest becomes part of every package command, so Snakemake's params trigger
    # reruns what older code made (off by default: a docstring would retrain everything).
    from bagnet_repro.files.code_digest import code_sha256

    BAGNET, TORCHRUN = (f"BAGNET_REPRO_CODE={code_sha256()} {command}" for command in (BAGNET, TORCHRUN))


def models():
    return config["models"]


def seeds():
    return config["seeds"]


def per_seed(pattern, model_list=None):
    """``pattern`` (with {model} and {seed}) for every configured model and seed (file-name forms)."""
    return expand(pattern, model=model_file_names(model_list if model_list is not None else models()), seed=seeds())


def model_name(wildcards):
    """The display name (``torchvision:resnet18``) of the {model} wildcard's file-name form."""
    return model_from_file_name(wildcards.model)


def compute():
    """Device and CPU threads of the train, evaluate, heatmap and precision jobs."""
    return config["compute"]


def job_gpus():
    """The GPUs of a train, evaluate, heatmap, precision or study job: from compute.device, not this host."""
    return planning.gpus_for_device(compute()["device"])


def gpu_resources(count):
    """``count`` GPUs as the resource compute.gpu_resource names (gpu, or gres for --gres=gpu:N)."""
    return planning.gpu_resources(count, compute()["gpu_resource"])


def model_weights(model):
    """The configured weights of ``model``: a keyword, path/URL, or {url, sha256}; "none" if unlisted.

    ``pretrained`` becomes the weights file of this workflow's own pretraining (rule pretrain)."""
    value = config["weights"]["models"].get(model, "none")
    if value == "pretrained":
        return pretrained_weights(model)
    return value


def pretrained_weights(model):
    return expand(rules.pretrain.output.weights, dataset=config["pretrain"]["dataset"], model=model_file_name(model))[0]


def weights_args(wildcards):
    """``--weights ... [--weights-sha256 ...] [--weights-cache ...]`` for the package command."""
    arguments = planning.weights_arguments(model_weights(model_name(wildcards)), config["weights"]["cache"])
    return " ".join(shlex.quote(argument) for argument in arguments)


def heatmap_models():
    """The original BagNets among the configured models (exact stride-1 heatmaps), smallest patch first."""
    return catalog.heatmap_models(models())


# The data stage (its rules: workflow/rules/data.smk).
# Verified downloads are kept here as well as in the rule's output (a hard link): Snakemake deletes an
# output before rerunning its rule (e.g. after a pinned sha256 changed), and the kept copy is reused when
# it still verifies, or replaced only once a new download does. Partial transfers (.part) wait here too.
DOWNLOAD_STORE = "results/downloads/.verified"


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
        return rules.make_demo_data.output[0]
    if source == "url":
        return rules.extract.output[0]
    return []


def user_data_folder():
    """The user's own folder the inventory lists (``data.local_dir`` or ``data.folder``), or None."""
    return {"local": config["data"]["local_dir"], "folder": config["data"]["folder"]}.get(data_source())


def data_root_path(wildcards, input):
    """The folder the inventory lists: the rule's input, or the user's own folder."""
    return input[0] if input else user_data_folder()


def data_layout():
    """The inventory's and split's --layout: the user's own folder, or the 15-scene layouts (the demo's too)."""
    return "folder" if data_source() == "folder" else "scene15"


def local_data_digest():
    """For the user's own folder (``source: local`` or ``folder``), a digest of its listing (see
    config/listing.py): a parameter of the inventory rule, so pointing at another folder or changing a file in
    it reruns the inventory and all that depends on it. The other sources are outputs of this workflow, which
    Snakemake tracks itself."""
    folder = user_data_folder()
    return listing_digest(folder) if folder else ""


def split_file_input():
    split_file = config["data"].get("split_file")
    return [split_file] if split_file else []


# The pretrain data stage (its rules: workflow/rules/pretrain_data.smk).
IMAGENET_TRAIN_DIR = data_catalog.IMAGENET_KAGGLE_LAYOUT[0]


def imagenette_archive():
    url = config["pretrain"]["imagenette"]["url"]
    return archive_name({"url": url})


def imagenet_download_record(wildcards):
    """With imagenet_source kaggle, the validation folders wait for the download (a localrule)."""
    return list(rules.imagenet_kaggle.output) if config["pretrain"]["imagenet_source"] == "kaggle" else []


def pretrain_data_input(wildcards):
    if wildcards.dataset == "imagenette":
        return rules.imagenette_extract.output[0]
    return rules.imagenet_val.output[0]


def pretrain_train_dir(wildcards, input):
    """The training images of the pretraining set (class folders)."""
    if wildcards.dataset == "imagenette":
        tops = [p for p in Path(input[0]).iterdir() if p.is_dir()]
        return str(tops[0] / "train") if len(tops) == 1 and (tops[0] / "train").is_dir() else f"{input[0]}/train"
    return f"{config['pretrain']['imagenet_dir']}/{IMAGENET_TRAIN_DIR}"


# The pretrain stage (its rules: workflow/rules/pretrain.smk).
def pretrain_gpus():
    """One GPU per torchrun process unless pretraining on the CPU (all on one node: see profiles/)."""
    return planning.gpus_for_device(config["pretrain"]["device"], per_job=config["pretrain"]["processes"])


def pretrain_options(wildcards):
    """pretrain.options (TrainSettings overrides of the recipe) as a quoted JSON object."""
    return shlex.quote(json.dumps(config["pretrain"]["options"], sort_keys=True))


def pretrain_outputs():
    dataset = config["pretrain"]["dataset"]
    if dataset == "none":
        return []
    weights = expand(rules.pretrain.output.weights, dataset=dataset, model=config["pretrain"]["models"])
    return expand(rules.pretrain_split.output[0], dataset=dataset) + weights


# The train stage (its rules: workflow/rules/train.smk).
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


def weights_record(model):
    """The fetch_weights record of ``model``'s weights; None when nothing is fetched (none, or pretrained here)."""
    if config["weights"]["models"].get(model, "none") in ("none", "pretrained"):
        return None
    return expand(rules.fetch_weights.output[0], model=model_file_name(model))[0]


def weights_record_input(wildcards):
    """Training waits for the verified download (a localrule on the submit host) or for the pretraining."""
    if model_weights(model_name(wildcards)) == "none":
        return []
    return weights_record(model_name(wildcards)) or pretrained_weights(model_name(wildcards))


def weights_record_arg(wildcards, input):
    """``--weights-record`` with the record the job is given: it loads the file fetch_weights verified."""
    return f"--weights-record {shlex.quote(input.weights)}" if weights_record(model_name(wildcards)) else ""


# The heatmaps stage (its rules: workflow/rules/heatmaps.smk).
def main_heatmap_model():
    """The BagNet that picks the heatmap images and draws Figures 2 and 4 (the largest patch)."""
    return catalog.main_heatmap_model(models())


def heatmap_outputs():
    return list(rules.heatmap_figures.output) if heatmap_models() else []


# The precision stage (its rules: workflow/rules/precision.smk).
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


def precision_model_input(wildcards):
    """A trained run's best.pt (first seed), or the verified ImageNet weights of an original BagNet."""
    if wildcards.source == "trained":
        return expand(rules.train.output.best, model=wildcards.model, seed=seeds()[0])[0]
    return weights_record(model_name(wildcards))


def precision_model_args(wildcards, input):
    """The trained checkpoint, or the original BagNet with the record of its verified ImageNet weights."""
    if wildcards.source == "trained":
        return f"--checkpoint {shlex.quote(input.model)}"
    return f"--model {model_name(wildcards)} --weights-record {shlex.quote(input.model)}"


def precision_inputs(name):
    """The ``name`` output (table, census, histogram) of every precision run."""
    pattern = getattr(rules.precision.output, name)
    return [expand(pattern, source=source, model=model_file_name(model))[0] for source, model in precision_runs()]


# The feature amounts stage (its rules: workflow/rules/feature_amounts.smk).
# Mundt et al.'s feature-amount study: its folder names the data set and depth, so studies do not mix.
FEATURE_AMOUNT_STUDY = f"{config['feature_amounts']['dataset']}_depth{config['feature_amounts']['depth']}"


FEATURE_AMOUNT_DIR = f"results/feature_amounts/{FEATURE_AMOUNT_STUDY}"


FEATURE_AMOUNT_DOWNLOADS = tuple(data_catalog.FEATURE_AMOUNT_TORCHVISION)


def feature_amount_variants():
    """The configured model ids (in the family's order), then the uniform network if asked for."""
    # Imported and computed only when the study's outputs are asked for: the family takes seconds to list,
    # and every start (every cluster job parses the workflow) would otherwise pay for it.
    from bagnet_repro.feature_amounts.family import UNIFORM, select_ids

    study = config["feature_amounts"]
    image_size = recipe_values(study["recipe"], study["options"]).get(
        "image_size", data_catalog.FEATURE_AMOUNT_IMAGE_SIZE
    )
    try:
        ids = select_ids(study["depth"], study["variants"], image_size)
    except ValueError as exc:
        sys.exit(f"config error at 'feature_amounts.variants': {exc}")
    return [str(i) for i in ids] + ([UNIFORM] if study["uniform"] else [])


def feature_amount_metrics():
    return expand(
        rules.feature_amount_run.output.metrics,
        variant=feature_amount_variants(),
        seed=config["feature_amounts"]["seeds"],
    )


def feature_amount_cache():
    """Where torchvision's data sets are downloaded once per machine."""
    return str(datasets_cache(config["feature_amounts"]["cache"]))


def feature_amount_data_file():
    """The run's data: this workflow's manifest (scene15), or the record of the downloaded data set."""
    dataset = config["feature_amounts"]["dataset"]
    if dataset == "scene15":
        return rules.split.output[0]
    return expand(rules.feature_amount_data.output[0], dataset=dataset)[0]


def feature_amount_options(wildcards):
    """feature_amounts.options (TrainSettings keys over the recipe) as a quoted JSON object."""
    return shlex.quote(json.dumps(config["feature_amounts"]["options"], sort_keys=True))


def feature_amount_outputs():
    if config["feature_amounts"]["dataset"] == "none":
        return []
    return list(rules.feature_amount_table.output) + list(rules.feature_amount_figures.output)


# The backbones stage (its rules: workflow/rules/backbones.smk).
def backbone_names():
    """The backbones of the vision-toolbox backbones' table (backbones.names: all, or a list; [] skips the table)."""
    return catalog.backbone_study(config["backbones"]["names"], data_source())


def backbone_outputs():
    return list(rules.backbone_table.output) if backbone_names() else []


# The report stage (its rules: workflow/rules/report.smk).
def paired_test_args(wildcards):
    """The paired tests' networks: ``--paired-tests`` and, when the config names one, ``--reference``."""
    reference = config["evaluate"].get("reference_model")
    pairing = f"--paired-tests {config['evaluate']['paired_tests']}"
    return f"{pairing} --reference {shlex.quote(reference)}" if reference else pairing


def prediction_runs():
    """(model, seed, predictions file) of every evaluated run, in the config's order."""
    pattern = rules.evaluate.output.predictions
    return [(m, s, expand(pattern, model=model_file_name(m), seed=s)[0]) for m in models() for s in seeds()]


def paper_files():
    """Name -> file of every table and figure the report includes (the studies' only when configured)."""
    files = {
        "figure1": rules.receptive_field_tables.output.figure1,
        "table1": rules.table1.output.csv,
        "mcnemar": rules.table1.output.mcnemar,
        "scramble_sweep": rules.table1.output.sweep_pdf,
        "training_curves": rules.table1.output.pdf,
        "weight_distribution": rules.precision_report.output.figure_pdf,
        "compute": rules.compute_table.output.csv,
    }
    if heatmap_models():
        figures = rules.heatmap_figures.output
        files.update(
            heatmaps_classes=figures.classes_pdf,
            heatmaps_models=figures.models_pdf,
            heatmaps_scrambled=figures.scrambled_pdf,
        )
    if config["feature_amounts"]["dataset"] != "none":
        files["feature_amounts_table"] = rules.feature_amount_table.output[0]
        files["feature_amounts_accuracy"] = rules.feature_amount_figures.output.accuracy_pdf
    if backbone_names():
        files["backbones"] = rules.backbone_table.output.csv
    return {name: str(path) for name, path in files.items()}


def all_outputs():
    """The final targets: the PDF and every table and figure of the report, with the data audit."""
    return (
        [rules.paper.output[0]]
        + pretrain_outputs()
        + feature_amount_outputs()
        + backbone_outputs()
        + heatmap_outputs()
        + list(rules.precision_report.output)
        + list(rules.table1.output)
        + list(rules.receptive_field_tables.output)
        + list(rules.audit.output)
    )
