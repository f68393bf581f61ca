"""bagnet-repro: from 15-scene images to the report's Table 1 (see README.md and docs/)."""

import os
import sys

from snakemake.sourcecache import LocalSourceFile
from snakemake.utils import min_version

min_version("9.0")

# The workflow's own folder, the checkout that holds src/, notebooks/, envs/ and the report template. Not
# workflow.basedir: where another project uses this workflow as a module, that is the user's folder
# (a known limitation of Snakemake's modules); the folder of the Snakefile being parsed is the workflow's own.
if not isinstance(workflow.current_basedir, LocalSourceFile):
    sys.exit(
        "error: bagnet-repro runs as a module from a local checkout (its jobs run the package in its src/): "
        f"clone it at the tag you want and give the module that clone's Snakefile, not "
        f"{workflow.current_basedir.get_path_or_uri(secret_free=True)} (docs/use-as-module.md)"
    )
WORKFLOW_DIR = workflow.current_basedir.get_path_or_uri(secret_free=True)

# The package's torch-free modules are read at parse time (config checks, model names, recipes).
if os.path.join(WORKFLOW_DIR, "src") not in sys.path:
    sys.path.insert(0, os.path.join(WORKFLOW_DIR, "src"))
from bagnet_repro.config import catalog
from bagnet_repro.config.loading import load_yaml_file
from bagnet_repro.errors import UserError

# A syntax error in config.yaml is named with its line (Snakemake's own message names neither). Where this
# workflow is a module given the user's config, Snakemake skips this configfile and the user's is checked.
try:
    load_yaml_file(os.path.join(WORKFLOW_DIR, "config.yaml"))
except UserError as _error:
    sys.exit(f"error: {_error}")


configfile: os.path.join(WORKFLOW_DIR, "config.yaml")


report: "workflow/report/workflow.rst"


# In the order the stages use each other's outputs (a rule names another's output as rules.NAME.output).
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/pretrain_data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/heatmaps.smk"
include: "workflow/rules/precision.smk"
include: "workflow/rules/feature_amounts.smk"
include: "workflow/rules/backbones.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/compute.smk"
include: "workflow/rules/paper.smk"
include: "workflow/rules/variants.smk"


wildcard_constraints:
    model=catalog.MODEL_PATTERN,
    seed=r"\d+",


rule all:
    default_target: True
    input:
        rules.paper.output,
        rules.class_counts.output,
        rules.compute_table.input,
        rules.compute_table.output,
