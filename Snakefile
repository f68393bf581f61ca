"""bagnet-repro: from 15-scene images to the report's Table 1 (see README.md and docs/)."""

import os
import sys

from snakemake.utils import min_version

min_version("9.0")

# The package's torch-free modules are read at parse time (config checks, model names, recipes).
sys.path.insert(0, os.path.join(workflow.basedir, "src"))
from bagnet_repro.config.loading import load_yaml_file
from bagnet_repro.errors import UserError

# A syntax error in config.yaml is named with its line (Snakemake's own message names neither).
try:
    load_yaml_file(os.path.join(workflow.basedir, "config.yaml"))
except UserError as _error:
    sys.exit(f"error: {_error}")


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/heatmaps.smk"
include: "workflow/rules/precision.smk"
include: "workflow/rules/pretrain_data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/feature_amounts.smk"
include: "workflow/rules/backbones.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/paper.smk"


wildcard_constraints:
    model=catalog.MODEL_PATTERN,
    seed=r"\d+",


rule all:
    default_target: True
    input:
        all_outputs(),
