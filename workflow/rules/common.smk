"""Shared pieces: the config check, the package commands every rule runs, and the plan of this config.

What the rules run (models, seeds, studies, weights, each stage's values) is decided in the package, by
bagnet_repro.config.workflow_plan (torch-free and tested without Snakemake); the rule files hold rules alone and
read the plan and each other's outputs (rules.X.output), never a function of another rule file."""

import shlex
import sys
from pathlib import Path

# The package's torch-free modules (model names, recipe presets, config checks) are on sys.path from the
# Snakefile, so the model list and the presets live in the package alone.
from bagnet_repro.config.checks import check_workflow_config
from bagnet_repro.compute.cuda_probe import physical_gpu_count
from bagnet_repro.config import planning
from bagnet_repro.config.executors import missing_device, missing_slurm
from bagnet_repro.config.file_names import model_file_name, model_file_names, model_from_file_name
from bagnet_repro.config.loading import SCHEMA
from bagnet_repro.config.pretrain_launch import multi_node_refusal
from bagnet_repro.config.report_words import data_words, report_words
from bagnet_repro.config.variants import run_place
from bagnet_repro.config.workflow_plan import WorkflowPlan
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
# torchrun; its options (one node, or one agent per node under srun) come from pretrain_launch below.
TORCHRUN = "python -m torch.distributed.run"
# Every notebook rule: input.notebook executed into output.notebook with params.parameters (a JSON object
# of explicit input and output paths); the package's drawing helpers are importable from the kernel.
PAPERMILL = "papermill {input.notebook:q} {output.notebook:q} -k python3 --cwd . -y {params.parameters:q} > {log} 2>&1"


try:
    check_workflow_config(config, workflow.config_settings.config, SCHEMA)
except UserError as _error:
    sys.exit(str(_error))

if workflow.is_main_process and (_no_slurm := missing_slurm(sys.argv)):
    sys.exit(f"error: {_no_slurm}")

if workflow.is_main_process and (
    _no_device := missing_device(config["compute"]["device"], sys.argv, physical_gpu_count)
):
    sys.exit(f"error: {_no_device}")

if config["pretrain"]["dataset"] != "none" and workflow.is_main_process:
    if _one_node := multi_node_refusal(config["pretrain"]["nodes"], sys.argv, os.environ):
        sys.exit(f"error: {_one_node}")

if config["compute"]["rerun_on_code_change"]:
    # Opt-in: the package code's digest becomes part of every package command, so Snakemake's params trigger
    # reruns what older code made (off by default: a docstring would retrain everything).
    from bagnet_repro.files.code_digest import code_sha256

    BAGNET, TORCHRUN = (f"BAGNET_REPRO_CODE={code_sha256()} {command}" for command in (BAGNET, TORCHRUN))


try:
    plan = WorkflowPlan(config, PROJECT_DIR)
except UserError as _error:
    sys.exit(str(_error))
