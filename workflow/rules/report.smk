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
