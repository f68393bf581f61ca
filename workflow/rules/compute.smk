"""What the run cost: the compute table, written once every computing job is done (compute/table.py).

It reads the compute records beside the results and Snakemake's benchmark files; the report quotes it, so its
inputs are every final target but the report."""


localrules:
    compute_table,


rule compute_table:
    input:
        # every final target but the report, which quotes this table: the table follows the last computing job
        lambda wildcards: [path for path in all_outputs() if str(path) != str(rules.paper.output[0])],
    output:
        csv=report(
            "report/tables/compute.csv",
            caption="../report/captions/compute.rst",
            category="Compute",
            labels={"name": "compute per job, stage and model", "type": "table"},
        ),
        md="report/tables/compute.md",
        tex="report/tables/compute.tex",
    log:
        "logs/compute/compute_table.log",
    conda:
        "../../envs/report.yaml"
    params:
        cli=BAGNET,
        results=f"{MODULE_PREFIX}results",
        benchmarks=f"{MODULE_PREFIX}logs/benchmarks",
    shell:
        "{params.cli} compute-table --results {params.results} --benchmarks {params.benchmarks} "
        "--csv {output.csv} --md {output.md} --tex {output.tex} > {log} 2>&1"
