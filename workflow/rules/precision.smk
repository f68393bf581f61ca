"""Precision study: accuracy and logit drift under TF32/bf16/fp16, dead-layer census, weight distributions.

One job per model and source: ``trained`` (the model fine-tuned here, first seed) or ``imagenet`` (an
original BagNet with its published ImageNet weights).
"""

import json

from bagnet_repro.config.report_entries import report_entry
from bagnet_repro.config.workflow_plan import PRECISION_SOURCES


rule precision:
    input:
        model=lambda wildcards: plan.precision_model_input(
            wildcards.source, wildcards.model, rules.train.output.best, rules.fetch_weights.output[0]
        ),
        manifest=rules.split.output[0],
    output:
        table="results/precision/{source}/{model}/modes.tsv",
        census="results/precision/{source}/{model}/census.tsv",
        histogram="results/precision/{source}/{model}/weights.tsv",
    log:
        "logs/precision/{source}_{model}.log",
    benchmark:
        "logs/benchmarks/precision/{source}_{model}.tsv"
    wildcard_constraints:
        source="|".join(PRECISION_SOURCES),
    conda:
        "../../envs/torch.yaml"
    threads: plan.device_job.threads
    resources:
        **plan.device_job.resources,
        **planning.JOB_SIZES["precision"],
    params:
        cli=BAGNET,
        section=plan.precision_section(),
        model=lambda wildcards, input: plan.precision_model_options(wildcards.source, wildcards.model, input.model),
        device=plan.device_job.device,
    shell:
        "{params.cli} precision --params {params.section:q} {params.model} --manifest {input.manifest} "
        "--out-table {output.table} --out-census {output.census} --out-histogram {output.histogram} "
        "--device {params.device} --threads {threads} > {log} 2>&1"


rule precision_report:
    input:
        tables=plan.precision_files(rules.precision.output.table),
        census=plan.precision_files(rules.precision.output.census),
        histograms=plan.precision_files(rules.precision.output.histogram),
        notebook=plan.source_file("notebooks/precision.ipynb"),
    output:
        table=report_entry(
            "report/tables/precision.csv", "precision", "Precision", "accuracy and logit drift per precision", "table"
        ),
        table_md="report/tables/precision.md",
        census=report_entry("report/tables/dead_layers.csv", "dead_layers", "Precision", "dead-layer census", "table"),
        census_md="report/tables/dead_layers.md",
        figure_pdf="report/figures/weight_distribution.pdf",
        figure_png=report_entry(
            "report/figures/weight_distribution.png",
            "weight_distribution",
            "Precision",
            "weight distributions",
            "figure",
        ),
        notebook="results/notebooks/precision.ipynb",
    log:
        "logs/report/precision_report.log",
    conda:
        "../../envs/report.yaml"
    params:
        parameters=lambda wildcards, input, output: json.dumps(
            {
                "table_files": list(input.tables),
                "census_files": list(input.census),
                "histogram_files": list(input.histograms),
                "table_csv": output.table,
                "table_md": output.table_md,
                "census_csv": output.census,
                "census_md": output.census_md,
                "figure": [output.figure_pdf, output.figure_png],
            }
        ),
    shell:
        PAPERMILL
