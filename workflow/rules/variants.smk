"""Config variants (``variants:``): each point of the grid is this workflow again as a Snakemake module, its
per-run outputs under variants/<name>/, the shared rules (data, weights, pretraining, the studies that run once)
left to this workflow, so they run once; then the table and figure that compare the variants
(config/variants.py)."""

from bagnet_repro.config.report_entries import report_entry
from bagnet_repro.config.variants import SHARED_RULES, overridden_keys, variant_grid, variants_table_options

try:
    VARIANTS = variant_grid(config, check=lambda c: check_workflow_config(c, None, SCHEMA))
    overridden_keys(VARIANTS, workflow.config_settings.config)
except UserError as _error:
    sys.exit(str(_error))

for _index, _variant in enumerate(VARIANTS):
    workflow.module(
        f"variant{_index}",
        snakefile=os.path.join(WORKFLOW_DIR, "Snakefile"),
        config=_variant.config,
        replace_prefix=_variant.replace_prefix(),
    )
    workflow.userule(
        rules=["*"],
        from_module=f"variant{_index}",
        exclude_rules=list(SHARED_RULES),
        name_modifier=f"variant{_index}_*",
    )(None)

# Each variant's copy of a rule: variant<i>_<rule>.
VARIANT_RULES = [
    {name: getattr(rules, f"variant{index}_{name}") for name in ("table1", "compute_table", "paper", "paper_values")}
    for index, _ in enumerate(VARIANTS)
]

if VARIANTS:

    rule variants_table:
        input:
            tables=[own["table1"].output.csv for own in VARIANT_RULES],
            compute=[own["compute_table"].output.csv for own in VARIANT_RULES],
            values=[own["paper_values"].output[0] for own in VARIANT_RULES],
            template=plan.source_file("workflow/report/variants.typ"),
        output:
            csv=report_entry("report/tables/variants.csv", "variants", "Variants", "the variants side by side", "table"),
            md="report/tables/variants.md",
            tests="report/tables/variants_mcnemar.csv",
            figure=report_entry(
                "report/figures/variants.png",
                "variants_figure",
                "Variants",
                "accuracy against each varied key",
                "figure",
            ),
            figure_pdf="report/figures/variants.pdf",
            values="results/variants/values.json",
            pdf=report_entry("report/variants.pdf", "variants_pdf", "Variants", "the variants' report", "PDF"),
        log:
            "logs/report/variants_table.log",
        conda:
            "../../envs/report.yaml"
        params:
            cli=BAGNET,
            variants=variants_table_options(VARIANTS),
        shell:
            "{params.cli} variants-table {params.variants} --csv {output.csv} --md {output.md} "
            "--tests {output.tests} --figure {output.figure} --figure-pdf {output.figure_pdf} "
            "--template {input.template:q} --values {output.values} --pdf {output.pdf} > {log} 2>&1"

    rule variants:
        input:
            # every variant's report (its PDF, Table 1 and compute table, which follow all its jobs), then the table
            [
                path
                for own in VARIANT_RULES
                for name in ("paper", "table1", "compute_table")
                for path in own[name].output
            ],
            rules.variants_table.output,
