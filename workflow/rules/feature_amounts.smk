"""Mundt et al.'s layer-wise feature-amount study: one job per (variant, seed) of the VGG family, so a rerun
after a crash redoes only what is missing and a cluster spreads the variants over its GPUs; then the
study's table, its figures and an interactive page."""

import json

from bagnet_repro.config.report_entries import report_entry
from bagnet_repro.feature_amounts.family import UNIFORM, select_ids


localrules:
    feature_amount_data,


# torchvision's data sets are downloaded once, on the submitting host, into the cache (like weights).
rule feature_amount_data:
    output:
        "results/feature_amounts/data/{dataset}.json",
    log:
        "logs/feature_amounts/data_{dataset}.log",
    wildcard_constraints:
        dataset="|".join(plan.feature_amount_downloads),
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        root=plan.feature_amount_cache(),
    shell:
        "{params.cli} feature-amount-data --dataset {wildcards.dataset} --root {params.root:q} --out {output} "
        "> {log} 2>&1"


rule feature_amount_run:
    input:
        data=plan.feature_amount_data_file(rules.split.output[0], rules.feature_amount_data.output[0]),
    output:
        metrics=f"{plan.feature_amount_dir}/{{variant}}/seed{{seed}}/metrics.json",
        history=f"{plan.feature_amount_dir}/{{variant}}/seed{{seed}}/history.csv",
    log:
        f"logs/feature_amounts/{plan.feature_amount_study}/{{variant}}_seed{{seed}}.log",
    benchmark:
        f"logs/benchmarks/feature_amounts/{plan.feature_amount_study}/{{variant}}_seed{{seed}}.tsv"
    wildcard_constraints:
        variant=r"[0-9]+|uniform",
        seed=r"[0-9]+",
    conda:
        "../../envs/torch.yaml"
    threads: plan.device_job.threads
    resources:
        **plan.device_job.resources,
        **planning.JOB_SIZES["feature_amount_run"],
    params:
        cli=BAGNET,
        section=plan.section("feature_amounts"),  # dataset, depth, recipe and options
        # beside its run's results (a prefixed module's too)
        checkpoint=lambda wildcards, output: run_place(
            output.metrics, "results/feature_amounts/", "results/checkpoints/feature_amounts/"
        )
        + f"{plan.feature_amount_study}/{wildcards.variant}/seed{wildcards.seed}.pt",
        device=plan.device_job.device,
    shell:
        "{params.cli} feature-amount-run --params {params.section:q} --data {input.data} "
        "--variant {wildcards.variant} --metrics {output.metrics} --history {output.history} "
        "--checkpoint {params.checkpoint} --seed {wildcards.seed} --device {params.device} --threads {threads} "
        "> {log} 2>&1"


rule feature_amount_table:
    input:
        lambda wildcards: expand(
            rules.feature_amount_run.output.metrics,
            variant=plan.feature_amount_variants(select_ids, UNIFORM),
            seed=config["feature_amounts"]["seeds"],
        ),
    output:
        report_entry(
            "report/tables/feature_amounts.tsv",
            "feature_amounts_table",
            "Feature amounts",
            "feature amounts per variant",
            "table",
        ),
    log:
        "logs/feature_amounts/table.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
    shell:
        "{params.cli} feature-amount-table --metrics {input} --out {output} > {log} 2>&1"


rule feature_amount_figures:
    input:
        table=rules.feature_amount_table.output[0],
        notebook=plan.source_file("notebooks/feature_amounts.ipynb"),
    output:
        notebook="results/notebooks/feature_amounts.ipynb",
        accuracy_pdf="report/figures/feature_amounts_accuracy.pdf",
        accuracy_png=report_entry(
            "report/figures/feature_amounts_accuracy.png",
            "feature_amounts_accuracy",
            "Feature amounts",
            "accuracy against parameters",
            "figure",
        ),
        profiles_pdf="report/figures/feature_amounts_profiles.pdf",
        profiles_png=report_entry(
            "report/figures/feature_amounts_profiles.png",
            "feature_amounts_profiles",
            "Feature amounts",
            "feature amounts per layer",
            "figure",
        ),
        parameters_pdf="report/figures/feature_amounts_parameters.pdf",
        parameters_png=report_entry(
            "report/figures/feature_amounts_parameters.png",
            "feature_amounts_parameters",
            "Feature amounts",
            "parameters per layer",
            "figure",
        ),
        html=report_entry(
            "report/figures/feature_amounts.html",
            "feature_amounts_html",
            "Feature amounts",
            "the study, interactive",
            "page",
        ),
    log:
        "logs/report/feature_amount_figures.log",
    conda:
        "../../envs/report.yaml"
    params:
        parameters=lambda wildcards, input, output: json.dumps(
            {
                "table": input.table,
                "accuracy": [output.accuracy_pdf, output.accuracy_png],
                "profiles": [output.profiles_pdf, output.profiles_png],
                "parameters": [output.parameters_pdf, output.parameters_png],
                "html": output.html,
            }
        ),
    shell:
        PAPERMILL
