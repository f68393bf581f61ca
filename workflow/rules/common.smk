"""Shared pieces: the config check, the package command, per-model helpers and the final targets.

Each stage's own helpers sit beside its rules (workflow/rules/<stage>.smk) or in bagnet_repro.config.planning."""

import json
import os
import shlex
import sys
from pathlib import Path

from snakemake import __version__ as SNAKEMAKE_VERSION

# The package's torch-free modules (model names, recipe presets, config checks) are on sys.path from the
# Snakefile, so the model list and the presets live in the package alone.
from bagnet_repro.config import catalog
from bagnet_repro.config.checks import check_workflow_config
from bagnet_repro.config.loading import SCHEMA
from bagnet_repro.errors import UserError
from bagnet_repro.config import planning

PROJECT_DIR = Path(workflow.basedir)

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
    so the rule's input names the same file wherever the checkout and its results move together."""
    return os.path.relpath(PROJECT_DIR / relative)


try:
    check_workflow_config(config, workflow.config_settings.config, SCHEMA)
except UserError as _error:
    sys.exit(str(_error))

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
    """``pattern`` (with {model} and {seed}) for every configured model and seed."""
    return expand(pattern, model=model_list if model_list is not None else models(), seed=seeds())


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
    return f"results/pretrained/{config['pretrain']['dataset']}/{model}/weights.pt"


def weights_args(wildcards):
    """``--weights ... [--weights-sha256 ...] [--weights-cache ...]`` for the package command."""
    arguments = planning.weights_arguments(model_weights(wildcards.model), config["weights"]["cache"])
    return " ".join(shlex.quote(argument) for argument in arguments)


def heatmap_models():
    """The original BagNets among the configured models (exact stride-1 heatmaps), smallest patch first."""
    return catalog.heatmap_models(models())


include: "helpers/backbones.smk"
include: "helpers/data.smk"
include: "helpers/feature_amounts.smk"
include: "helpers/heatmaps.smk"
include: "helpers/precision.smk"
include: "helpers/pretrain.smk"
include: "helpers/pretrain_data.smk"
include: "helpers/report.smk"
include: "helpers/train.smk"


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
