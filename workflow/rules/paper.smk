"""The report as one PDF: the values its text quotes (with the run's provenance), then Typst."""

import json
import shlex

from snakemake import __version__ as SNAKEMAKE_VERSION

from bagnet_repro.config.report_entries import report_entry

# Name -> file of every table and figure the report includes (each study's only when it runs).
PAPER_FILES = plan.paper_files(
    tables={
        "figure1": rules.receptive_field_tables.output.figure1,
        "table1": rules.table1.output.csv,
        "mcnemar": rules.table1.output.mcnemar,
        # .get: table1 declares the sweep's figure only when the sweep runs
        **plan.study_files("sweep", {"scramble_sweep": rules.table1.output.get("sweep_pdf")}),
        "training_curves": rules.table1.output.pdf,
        **plan.study_files("precision", {"weight_distribution": rules.precision_report.output.figure_pdf}),
        "compute": rules.compute_table.output.csv,
    },
    heatmaps={
        "heatmaps_classes": rules.heatmap_figures.output.classes_pdf,
        "heatmaps_models": rules.heatmap_figures.output.models_pdf,
        "heatmaps_scrambled": rules.heatmap_figures.output.scrambled_pdf,
    },
    feature_amounts={
        "feature_amounts_table": rules.feature_amount_table.output[0],
        "feature_amounts_accuracy": rules.feature_amount_figures.output.accuracy_pdf,
    },
    backbones={"backbones": rules.backbone_table.output.csv},
)


# Seconds of work each, on files already on the submitting host: not worth a cluster job.
localrules:
    paper_values,
    paper,


rule paper_values:
    input:
        unpack(lambda wildcards: PAPER_FILES),
        **plan.study_files("sweep", {"sweep": rules.summarize.output.get("sweep")}),
        **plan.study_files(
            "precision",
            {"precision": rules.precision_report.output.table, "dead_layers": rules.precision_report.output.census},
        ),
        audit=rules.audit.output.summary,
        manifest=rules.split.output[0],
        inventory=rules.inventory.output[0],
        histories=expand(rules.train.output.history, model=model_file_names(plan.models), seed=plan.seeds),
        results=expand(rules.evaluate.output.metrics, model=model_file_names(plan.models), seed=plan.seeds),
    output:
        "results/paper/values.json",
    log:
        "logs/paper/values.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        files=" ".join(f"--file {name} {path}" for name, path in PAPER_FILES.items()),
        config=shlex.quote(json.dumps(config, sort_keys=True)),
        train=plan.train_options(),
        snakemake_version=SNAKEMAKE_VERSION,
        studies=lambda wildcards, input: plan.named_options(input, "sweep", "precision", "dead_layers"),
    shell:
        "{params.cli} paper-values {params.files} {params.studies} --audit-summary {input.audit} --manifest {input.manifest} "
        "--inventory {input.inventory} --histories {input.histories} --results {input.results} --config {params.config} --train-settings {params.train} "
        '--project "$BAGNET_REPRO_PROJECT" --snakemake-version {params.snakemake_version} --out {output} > {log} 2>&1'


rule paper:
    input:
        unpack(lambda wildcards: PAPER_FILES),
        values=rules.paper_values.output[0],
        template=plan.source_file("workflow/report/paper.typ"),
    output:
        report_entry("report/paper.pdf", "paper", "Report", "the report", "PDF"),
    log:
        "logs/paper/paper.log",
    conda:
        "../../envs/report.yaml"
    params:
        cli=BAGNET,
    shell:
        "{params.cli} paper --template {input.template:q} --values {input.values} --out {output} > {log} 2>&1"
