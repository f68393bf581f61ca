"""Precision study: accuracy and logit drift under TF32/bf16/fp16, dead-layer census, weight distributions.

One job per model and source: ``trained`` (the model fine-tuned here, first seed) or ``imagenet`` (an
original BagNet with its published ImageNet weights).
"""


rule precision:
    input:
        model=precision_model_input,
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
    threads: compute()["threads"]
    resources:
        **gpu_resources(job_gpus(), "precision"),
    params:
        cli=BAGNET,
        model=precision_model_args,
        device=compute()["device"],
        batch_size=config["evaluate"]["batch_size"],
        max_images=max_images_arg,
    shell:
        "{params.cli} precision {params.model} --manifest {input.manifest} {params.max_images} "
        "--out-table {output.table} --out-census {output.census} --out-histogram {output.histogram} "
        "--batch-size {params.batch_size} --device {params.device} --threads {threads} > {log} 2>&1"


rule precision_report:
    input:
        tables=precision_inputs("table"),
        census=precision_inputs("census"),
        histograms=precision_inputs("histogram"),
        notebook=source_file("notebooks/precision.ipynb"),
    output:
        table=report(
            "report/tables/precision.csv",
            caption="../report/captions/precision.rst",
            category="Precision",
            labels={"name": "accuracy and logit drift per precision", "type": "table"},
        ),
        table_md="report/tables/precision.md",
        census=report(
            "report/tables/dead_layers.csv",
            caption="../report/captions/dead_layers.rst",
            category="Precision",
            labels={"name": "dead-layer census", "type": "table"},
        ),
        census_md="report/tables/dead_layers.md",
        figure_pdf="report/figures/weight_distribution.pdf",
        figure_png=report(
            "report/figures/weight_distribution.png",
            caption="../report/captions/weight_distribution.rst",
            category="Precision",
            labels={"name": "weight distributions", "type": "figure"},
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
