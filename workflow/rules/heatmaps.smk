"""Heatmap stage: stride-1 patch heatmaps of the original BagNets and the report's Figures 2-4."""

import json

from bagnet_repro.config.report_entries import report_entry


rule heatmap_selection:
    input:
        predictions=lambda wildcards: expand(
            rules.evaluate.output.predictions, model=plan.main_heatmap_model, seed=plan.first_seed
        ),
    output:
        "results/heatmaps/selection.tsv",
    log:
        "logs/heatmaps/heatmap_selection.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        section=plan.section("heatmaps"),
    shell:
        "{params.cli} select-heatmap-images --params {params.section:q} --predictions {input.predictions} "
        "--out {output} > {log} 2>&1"


# The images are chosen by the cheap rule above: a bad heatmaps.images entry fails there, and Snakemake
# never deletes a good heatmaps.npz to recompute it.
rule heatmaps:
    input:
        models=lambda wildcards: expand(rules.train.output.best, model=plan.heatmap_models, seed=plan.first_seed),
        selection=rules.heatmap_selection.output[0],
    output:
        "results/heatmaps/heatmaps.npz",
    log:
        "logs/heatmaps/heatmaps.log",
    benchmark:
        "logs/benchmarks/heatmaps/heatmaps.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: plan.device_job.threads
    resources:
        **plan.device_job.resources,
        **planning.JOB_SIZES["heatmaps"],
    params:
        cli=BAGNET,
        memory_mb=config["heatmaps"]["memory_mb"],
        evaluate=config["evaluate"],
        device=plan.device_job.device,
    shell:
        "{params.cli} heatmaps --checkpoints {input.models} --selection {input.selection} --out {output} "
        "--scramble-grid {params.evaluate[scramble_grid]} --scramble-seed {params.evaluate[scramble_seed]} "
        "--memory-mb {params.memory_mb} --device {params.device} --threads {threads} > {log} 2>&1"


rule heatmap_figures:
    input:
        heatmaps=rules.heatmaps.output[0],
        notebook=plan.source_file("notebooks/heatmaps.ipynb"),
    output:
        classes_pdf="report/figures/heatmaps_classes.pdf",
        classes_png=report_entry(
            "report/figures/heatmaps_classes.png",
            "heatmaps_classes",
            "Heatmaps",
            "Figure 2: heatmaps per class",
            "figure",
        ),
        models_pdf="report/figures/heatmaps_models.pdf",
        models_png=report_entry(
            "report/figures/heatmaps_models.png",
            "heatmaps_models",
            "Heatmaps",
            "Figure 3: heatmaps per BagNet",
            "figure",
        ),
        scrambled_pdf="report/figures/heatmaps_scrambled.pdf",
        scrambled_png=report_entry(
            "report/figures/heatmaps_scrambled.png",
            "heatmaps_scrambled",
            "Heatmaps",
            "Figure 4: heatmaps, scrambled",
            "figure",
        ),
        notebook="results/notebooks/heatmaps.ipynb",
    log:
        "logs/report/heatmap_figures.log",
    conda:
        "../../envs/report.yaml"
    params:
        parameters=lambda wildcards, input, output: json.dumps(
            {
                "heatmaps_file": input.heatmaps,
                "main_model": plan.main_heatmap_model,
                "classes_shown": config["heatmaps"]["classes_shown"],
                "classes_figure": [output.classes_pdf, output.classes_png],
                "models_figure": [output.models_pdf, output.models_png],
                "scrambled_figure": [output.scrambled_pdf, output.scrambled_png],
            }
        ),
        words=report_words(config),
    shell:
        PAPERMILL
