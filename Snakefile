"""bagnet-repro: from 15-scene images to the report's Table 1 (see README.md)."""

import os

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/heatmaps.smk"
include: "workflow/rules/precision.smk"
include: "workflow/rules/pretrain_data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/report.smk"


wildcard_constraints:
    model="|".join(catalog.MODEL_NAMES),
    seed=r"\d+",


rule all:
    default_target: True
    input:
        all_outputs(),
