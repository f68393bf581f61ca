"""The vision-toolbox backbones: their params/FLOPs table beside the published values, with forward latency
measured on the machine that runs the job (named in the table)."""


rule backbone_table:
    output:
        csv=report(
            "report/tables/backbones.csv",
            caption="../report/captions/backbones.rst",
            category="Backbones",
            labels={"name": "the vision-toolbox backbones", "type": "table"},
        ),
        md="report/tables/backbones.md",
        tex="report/tables/backbones.tex",
    log:
        "logs/backbones/table.log",
    benchmark:
        "logs/benchmarks/backbones/table.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: compute()["threads"]
    resources:
        **gpu_resources(job_gpus(), "backbone_table"),
    params:
        cli=BAGNET,
        names=" ".join(backbone_names()),
        batches=" ".join(map(str, config["backbones"]["latency_batches"])),
        repeats=config["backbones"]["latency_repeats"],
        device=compute()["device"],
    shell:
        "{params.cli} backbone-table --names {params.names} --csv {output.csv} --md {output.md} "
        "--tex {output.tex} --latency-batches {params.batches} --repeats {params.repeats} "
        "--device {params.device} --threads {threads} > {log} 2>&1"
