"""Precision study: accuracy and logit drift under TF32/bf16/fp16, dead-layer census, weight distributions."""


rule precision:
    input:
        model=lambda wildcards: f"results/models/{wildcards.model}/seed{seeds()[0]}/best.pt",
        manifest="results/data/manifest.tsv",
    output:
        table="results/precision/{model}/modes.tsv",
        census="results/precision/{model}/census.tsv",
        histogram="results/precision/{model}/weights.tsv",
    log:
        "logs/precision/{model}.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["train"]["threads"]
    resources:
        gpu=train_gpus(),
    params:
        cli=BAGNET,
        device=config["train"]["device"],
        batch_size=config["evaluate"]["batch_size"],
        max_images=max_images_arg,
    shell:
        "{params.cli} precision --checkpoint {input.model} --manifest {input.manifest} {params.max_images} "
        "--out-table {output.table} --out-census {output.census} --out-histogram {output.histogram} "
        "--batch-size {params.batch_size} --device {params.device} --threads {threads} > {log} 2>&1"


rule precision_imagenet:
    input:
        weights="results/weights/{model}.json",
        manifest="results/data/manifest.tsv",
    output:
        table="results/precision_imagenet/{model}/modes.tsv",
        census="results/precision_imagenet/{model}/census.tsv",
        histogram="results/precision_imagenet/{model}/weights.tsv",
    log:
        "logs/precision/{model}_imagenet.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["train"]["threads"]
    resources:
        gpu=train_gpus(),
    params:
        cli=BAGNET,
        device=config["train"]["device"],
        batch_size=config["evaluate"]["batch_size"],
        max_images=max_images_arg,
        cache=lambda wildcards: (
            f"--weights-cache {shlex.quote(config['weights']['cache'])}" if config["weights"]["cache"] else ""
        ),
    shell:
        "{params.cli} precision --model {wildcards.model} {params.cache} --manifest {input.manifest} "
        "{params.max_images} "
        "--out-table {output.table} --out-census {output.census} --out-histogram {output.histogram} "
        "--batch-size {params.batch_size} --device {params.device} --threads {threads} > {log} 2>&1"


rule precision_report:
    input:
        tables=precision_inputs("modes.tsv"),
        census=precision_inputs("census.tsv"),
        histograms=precision_inputs("weights.tsv"),
        notebook=str(PROJECT_DIR / "notebooks" / "precision.ipynb"),
    output:
        table=report(
            "report/tables/precision.csv", caption="../../report/captions/precision.rst", category="Precision"
        ),
        table_md="report/tables/precision.md",
        census=report(
            "report/tables/dead_layers.csv",
            caption="../../report/captions/dead_layers.rst",
            category="Precision",
        ),
        census_md="report/tables/dead_layers.md",
        figure_pdf="report/figures/weight_distribution.pdf",
        figure_png=report(
            "report/figures/weight_distribution.png",
            caption="../../report/captions/weight_distribution.rst",
            category="Precision",
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
                "table_dir": str(Path(output.table).parent),
                "figure_dir": str(Path(output.figure_pdf).parent),
            }
        ),
    shell:
        "papermill {input.notebook:q} {output.notebook:q} -k python3 --cwd . "
        "-y {params.parameters:q} > {log} 2>&1"
