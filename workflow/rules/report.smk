"""Report stage: papermill runs the notebooks that turn results into tables and figures."""

import json
import shlex

from bagnet_repro.config.report_entries import report_entry


rule summarize:
    input:
        predictions=[path for _, _, path in plan.prediction_runs(rules.evaluate.output.predictions)],
    output:
        **plan.study_files("sweep", {"sweep": "results/statistics/sweep.csv"}),
        table1="results/statistics/table1.csv",
        mcnemar="results/statistics/mcnemar.csv",
        per_class="results/statistics/per_class.csv",
        confusion="results/statistics/confusion.csv",
    log:
        "logs/report/summarize.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        runs=" ".join(
            f"--predictions {m} {s} {shlex.quote(path)}"
            for m, s, path in plan.prediction_runs(rules.evaluate.output.predictions)
        ),
        grid=config["evaluate"]["scramble_grid"],
        pairs=plan.paired_test_options(),
        sweep=lambda wildcards, output: plan.named_options(output, "sweep"),
    shell:
        "{params.cli} summarize {params.runs} --table1 {output.table1} --mcnemar {output.mcnemar} "
        "--per-class {output.per_class} --confusion {output.confusion} {params.sweep} "
        "--scramble-grid {params.grid} {params.pairs} > {log} 2>&1"


rule table1:
    input:
        # .get: summarize declares the sweep's table only when the sweep runs
        **plan.study_files("sweep", {"sweep": rules.summarize.output.get("sweep")}),
        table1=rules.summarize.output.table1,
        mcnemar=rules.summarize.output.mcnemar,
        per_class=rules.summarize.output.per_class,
        confusion=rules.summarize.output.confusion,
        histories=expand(rules.train.output.history, model=model_file_names(plan.models), seed=plan.first_seed),
        notebook=plan.source_file("notebooks/table1.ipynb"),
    output:
        **plan.study_files(
            "sweep",
            {
                "sweep_pdf": "report/figures/scramble_sweep.pdf",
                "sweep_png": report_entry(
                    "report/figures/scramble_sweep.png",
                    "scramble_sweep",
                    "Scrambling",
                    "accuracy against scrambling",
                    "figure",
                ),
            },
        ),
        csv=report_entry(
            "report/tables/table1.csv", "table1", "Table 1", "Table 1: accuracy with 95% intervals", "table"
        ),
        md="report/tables/table1.md",
        tex="report/tables/table1.tex",
        mcnemar="report/tables/mcnemar.csv",
        mcnemar_md="report/tables/mcnemar.md",
        per_class="report/tables/per_class.csv",
        pdf="report/figures/training_curves.pdf",
        png=report_entry(
            "report/figures/training_curves.png", "training_curves", "Training", "training curves", "figure"
        ),
        confusion_pdf=expand("report/figures/confusion_{model}.pdf", model=model_file_names(plan.models)),
        confusion_png=[
            report_entry(
                f"report/figures/confusion_{model_file_name(model)}.png",
                "confusion",
                "Confusion matrices",
                model=model,
            )
            for model in plan.models
        ],
        notebook="results/notebooks/table1.ipynb",
    log:
        "logs/report/table1.log",
    conda:
        "../../envs/report.yaml"
    params:
        parameters=lambda wildcards, input, output: json.dumps(
            {
                "table1_file": input.table1,
                "mcnemar_file": input.mcnemar,
                "per_class_file": input.per_class,
                "confusion_file": input.confusion,
                "sweep_file": input.get("sweep"),  # None (and no figure) without the sweep
                "scramble_grid": config["evaluate"]["scramble_grid"],
                "history_files": dict(zip(plan.models, input.histories)),
                "table1_csv": output.csv,
                "table1_md": output.md,
                "table1_tex": output.tex,
                "mcnemar_csv": output.mcnemar,
                "mcnemar_md": output.mcnemar_md,
                "per_class_csv": output.per_class,
                "curves_figure": [output.pdf, output.png],
                "sweep_figure": [output.sweep_pdf, output.sweep_png] if plan.sweep_run else [],
                "confusion_figures": {
                    m: [pdf, png] for m, pdf, png in zip(plan.models, output.confusion_pdf, output.confusion_png)
                },
            }
        ),
        words=report_words(config),
    shell:
        PAPERMILL


rule receptive_fields:
    output:
        layers="results/receptive_fields/layers.tsv",
        summary="results/receptive_fields/summary.tsv",
    log:
        "logs/report/receptive_fields.log",
    conda:
        "../../envs/torch.yaml"
    resources:
        **planning.JOB_SIZES["receptive_fields"],
    params:
        cli=BAGNET,
        models=lambda wildcards: " ".join(plan.models),
        section=plan.section("receptive_fields"),
    shell:
        "{params.cli} receptive-fields --params {params.section:q} --models {params.models} "
        "--layers {output.layers} --summary {output.summary} > {log} 2>&1"


rule receptive_field_tables:
    input:
        layers=rules.receptive_fields.output.layers,
        summary=rules.receptive_fields.output.summary,
        notebook=plan.source_file("notebooks/receptive_fields.ipynb"),
    output:
        figure1=report_entry(
            "report/tables/figure1.csv", "figure1", "Figure 1", "Figure 1: receptive field per layer", "table"
        ),
        figure1_md="report/tables/figure1.md",
        figure1_tex="report/tables/figure1.tex",
        summary=report_entry(
            "report/tables/receptive_fields.csv",
            "receptive_fields",
            "Figure 1",
            "receptive fields, measured and theoretical",
            "table",
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
                "figure1_tables": [output.figure1, output.figure1_md, output.figure1_tex],
                "summary_tables": [output.summary, output.summary_md, output.summary_tex],
            }
        ),
        words=report_words(config),
    shell:
        PAPERMILL
