"""The vision-toolbox backbones: their params/FLOPs table beside the published values, with forward latency
measured on the machine that runs the job (named in the table)."""

from bagnet_repro.config.report_entries import report_entry


rule backbone_table:
    output:
        csv=report_entry(
            "report/tables/backbones.csv", "backbones", "Backbones", "the vision-toolbox backbones", "table"
        ),
        md="report/tables/backbones.md",
        tex="report/tables/backbones.tex",
    log:
        "logs/backbones/table.log",
    benchmark:
        "logs/benchmarks/backbones/table.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: plan.device_job.threads
    resources:
        **plan.device_job.resources,
        **planning.JOB_SIZES["backbone_table"],
    params:
        cli=BAGNET,
        section=plan.section("backbones", names=plan.backbone_names),
        device=plan.device_job.device,
    shell:
        "{params.cli} backbone-table --params {params.section:q} --csv {output.csv} --md {output.md} "
        "--tex {output.tex} --device {params.device} --threads {threads} > {log} 2>&1"
