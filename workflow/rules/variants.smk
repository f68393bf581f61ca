"""Config variants (``variants:``): each point of the grid is this workflow again as a Snakemake module, its
per-run outputs under variants/<name>/, the shared rules (data, weights, pretraining, the studies that run once)
left to this workflow, so they run once; then the table and figure that compare the variants
(config/variants.py)."""

from bagnet_repro.config.variants import SHARED_RULES, overridden_keys, variant_grid

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


def variant_rule(index, name):
    """Rule ``name`` of the variant at ``index`` (its module's copy)."""
    return getattr(rules, f"variant{index}_{name}")


def variant_targets():
    """Every variant's report: its PDF, Table 1 and compute table (which follow all its jobs)."""
    targets = []
    for index, _ in enumerate(VARIANTS):
        targets += list(variant_rule(index, "paper").output) + list(variant_rule(index, "table1").output)
        targets += list(variant_rule(index, "compute_table").output)
    return targets


if VARIANTS:

    rule variants_table:
        input:
            tables=[variant_rule(i, "table1").output.csv for i, _ in enumerate(VARIANTS)],
            compute=[variant_rule(i, "compute_table").output.csv for i, _ in enumerate(VARIANTS)],
            values=[variant_rule(i, "paper_values").output[0] for i, _ in enumerate(VARIANTS)],
        output:
            csv=report(
                "report/tables/variants.csv",
                caption="../report/captions/variants.rst",
                category="Variants",
                labels={"name": "the variants side by side", "type": "table"},
            ),
            md="report/tables/variants.md",
            tests="report/tables/variants_mcnemar.csv",
            figure=report(
                "report/figures/variants.png",
                caption="../report/captions/variants_figure.rst",
                category="Variants",
                labels={"name": "accuracy against each varied key", "type": "figure"},
            ),
            figure_pdf="report/figures/variants.pdf",
        log:
            "logs/report/variants_table.log",
        conda:
            "../../envs/report.yaml"
        params:
            cli=BAGNET,
            variants=" ".join(f"--variant {v.folder} {shlex.quote(json.dumps(v.values))}" for v in VARIANTS),
        shell:
            "{params.cli} variants-table {params.variants} --csv {output.csv} --md {output.md} "
            "--tests {output.tests} --figure {output.figure} --figure-pdf {output.figure_pdf} > {log} 2>&1"

    rule variants:
        input:
            variant_targets(),
            rules.variants_table.output,
