"""What the run cost: the compute table, written once every computing job is done (compute/table.py).

It reads the compute records beside the results and Snakemake's benchmark files; the report quotes it, so its
inputs are every final target but the report."""

from bagnet_repro.config.report_entries import report_entry


localrules:
    compute_table,


rule compute_table:
    input:
        # every final target but the report, which quotes this table: the table follows the last computing job
        plan.pretrain_outputs(rules.pretrain_split.output[0], rules.pretrain.output.weights),
        plan.when(plan.feature_amounts_run, rules.feature_amount_table.output),
        plan.when(plan.feature_amounts_run, rules.feature_amount_figures.output),
        plan.when(plan.backbone_names, rules.backbone_table.output),
        plan.when(plan.heatmap_models, rules.heatmap_figures.output),
        plan.when(plan.precision_run, rules.precision_report.output),
        rules.table1.output,
        rules.receptive_field_tables.output,
        rules.audit.output,
    output:
        csv=report_entry("report/tables/compute.csv", "compute", "Compute", "compute per job, stage and model", "table"),
        md="report/tables/compute.md",
        tex="report/tables/compute.tex",
    log:
        "logs/compute/compute_table.log",
    conda:
        "../../envs/report.yaml"
    params:
        cli=BAGNET,
        # the run's own folders (a config variant's are under variants/<name>/)
        results=lambda wildcards, output: run_place(output.csv, "report/tables/", "results"),
        benchmarks=lambda wildcards, output: run_place(output.csv, "report/tables/", "logs/benchmarks"),
    shell:
        "{params.cli} compute-table --results {params.results} --benchmarks {params.benchmarks} "
        "--csv {output.csv} --md {output.md} --tex {output.tex} > {log} 2>&1"
