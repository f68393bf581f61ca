"""Mundt et al.'s layer-wise feature-amount study: one job per (variant, seed) of the VGG family, so a rerun
after a crash redoes only what is missing and a cluster spreads the variants over its GPUs; then the
study's table, its figures and an interactive page."""


localrules:
    feature_amount_data,


# torchvision's data sets are downloaded once, on the submitting host, into the cache (like weights).
rule feature_amount_data:
    output:
        "results/feature_amounts/data/{dataset}.json",
    log:
        "logs/feature_amounts/data_{dataset}.log",
    wildcard_constraints:
        dataset="|".join(FEATURE_AMOUNT_DOWNLOADS),
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        root=feature_amount_cache(),
    shell:
        "{params.cli} feature-amount-data --dataset {wildcards.dataset} --root {params.root:q} --out {output} "
        "> {log} 2>&1"


rule feature_amount_run:
    input:
        data=feature_amount_data_file(),
    output:
        metrics=f"{FEATURE_AMOUNT_DIR}/{{variant}}/seed{{seed}}/metrics.json",
        history=f"{FEATURE_AMOUNT_DIR}/{{variant}}/seed{{seed}}/history.csv",
    log:
        f"logs/feature_amounts/{FEATURE_AMOUNT_STUDY}/{{variant}}_seed{{seed}}.log",
    benchmark:
        f"logs/benchmarks/feature_amounts/{FEATURE_AMOUNT_STUDY}/{{variant}}_seed{{seed}}.tsv"
    wildcard_constraints:
        variant=r"[0-9]+|uniform",
        seed=r"[0-9]+",
    conda:
        "../../envs/torch.yaml"
    threads: compute()["threads"]
    resources:
        **gpu_resources(job_gpus(), "feature_amount_run"),
    params:
        cli=BAGNET,
        dataset=config["feature_amounts"]["dataset"],
        depth=config["feature_amounts"]["depth"],
        recipe=config["feature_amounts"]["recipe"],
        options=feature_amount_options,
        checkpoint=f"{MODULE_PREFIX}results/checkpoints/feature_amounts/{FEATURE_AMOUNT_STUDY}/{{variant}}/seed{{seed}}.pt",
        device=compute()["device"],
    shell:
        "{params.cli} feature-amount-run --dataset {params.dataset} --data {input.data} --depth {params.depth} "
        "--variant {wildcards.variant} --metrics {output.metrics} --history {output.history} "
        "--checkpoint {params.checkpoint} --recipe {params.recipe} --options {params.options} "
        "--seed {wildcards.seed} --device {params.device} --threads {threads} > {log} 2>&1"


rule feature_amount_table:
    input:
        lambda wildcards: feature_amount_metrics(),
    output:
        report(
            "report/tables/feature_amounts.tsv",
            caption="../report/captions/feature_amounts_table.rst",
            category="Feature amounts",
            labels={"name": "feature amounts per variant", "type": "table"},
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
        notebook=source_file("notebooks/feature_amounts.ipynb"),
    output:
        notebook="results/notebooks/feature_amounts.ipynb",
        accuracy_pdf="report/figures/feature_amounts_accuracy.pdf",
        accuracy_png=report(
            "report/figures/feature_amounts_accuracy.png",
            caption="../report/captions/feature_amounts_accuracy.rst",
            category="Feature amounts",
            labels={"name": "accuracy against parameters", "type": "figure"},
        ),
        profiles_pdf="report/figures/feature_amounts_profiles.pdf",
        profiles_png=report(
            "report/figures/feature_amounts_profiles.png",
            caption="../report/captions/feature_amounts_profiles.rst",
            category="Feature amounts",
            labels={"name": "feature amounts per layer", "type": "figure"},
        ),
        parameters_pdf="report/figures/feature_amounts_parameters.pdf",
        parameters_png=report(
            "report/figures/feature_amounts_parameters.png",
            caption="../report/captions/feature_amounts_parameters.rst",
            category="Feature amounts",
            labels={"name": "parameters per layer", "type": "figure"},
        ),
        html=report(
            "report/figures/feature_amounts.html",
            caption="../report/captions/feature_amounts_html.rst",
            category="Feature amounts",
            labels={"name": "the study, interactive", "type": "page"},
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
