"""Report stage: papermill runs the notebooks that turn results into tables and figures."""


rule table1:
    input:
        metrics=expand("results/metrics/{model}.json", model=models()),
        histories=expand("results/models/{model}/history.csv", model=models()),
        notebook=str(PROJECT_DIR / "notebooks" / "table1.ipynb"),
    output:
        csv=report(
            "report/tables/table1.csv", caption="../../report/captions/table1.rst", category="Table 1"
        ),
        md="report/tables/table1.md",
        tex="report/tables/table1.tex",
        pdf="report/figures/training_curves.pdf",
        png=report(
            "report/figures/training_curves.png",
            caption="../../report/captions/training_curves.rst",
            category="Training",
        ),
        notebook="results/notebooks/table1.ipynb",
    log:
        "logs/report/table1.log",
    conda:
        "../../envs/report.yaml"
    params:
        parameters=lambda wildcards, input, output: json.dumps(
            {
                "metrics_files": list(input.metrics),
                "history_files": list(input.histories),
                "table_dir": str(Path(output.csv).parent),
                "figure_dir": str(Path(output.pdf).parent),
            }
        ),
    shell:
        "papermill {input.notebook:q} {output.notebook:q} -k python3 --cwd . "
        "-y {params.parameters:q} > {log} 2>&1"


rule receptive_fields:
    output:
        layers="results/receptive_fields/layers.tsv",
        summary="results/receptive_fields/summary.tsv",
    log:
        "logs/report/receptive_fields.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        models=lambda wildcards: " ".join(config["models"]),
        image_size=config["receptive_fields"]["image_size"],
        measure_size=config["receptive_fields"]["measure_size"],
    shell:
        "{params.cli} receptive-fields --models {params.models} --image-size {params.image_size} "
        "--measure-size {params.measure_size} --layers {output.layers} --summary {output.summary} > {log} 2>&1"


rule receptive_field_tables:
    input:
        layers="results/receptive_fields/layers.tsv",
        summary="results/receptive_fields/summary.tsv",
        notebook=str(PROJECT_DIR / "notebooks" / "receptive_fields.ipynb"),
    output:
        figure1=report(
            "report/tables/figure1.csv",
            caption="../../report/captions/figure1.rst",
            category="Figure 1",
        ),
        figure1_md="report/tables/figure1.md",
        figure1_tex="report/tables/figure1.tex",
        summary=report(
            "report/tables/receptive_fields.csv",
            caption="../../report/captions/receptive_fields.rst",
            category="Figure 1",
        ),
        summary_md="report/tables/receptive_fields.md",
        summary_tex="report/tables/receptive_fields.tex",
        notebook="results/notebooks/receptive_fields.ipynb",
    log:
        "logs/report/receptive_field_tables.log",
    conda:
        "../../envs/report.yaml"
    params:
        parameters=lambda wildcards, input, output: json.dumps(
            {
                "layers_file": input.layers,
                "summary_file": input.summary,
                "table_dir": str(Path(output.figure1).parent),
            }
        ),
    shell:
        "papermill {input.notebook:q} {output.notebook:q} -k python3 --cwd . "
        "-y {params.parameters:q} > {log} 2>&1"
