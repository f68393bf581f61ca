"""Evaluation stage: validation, test and scrambled test accuracy (evaluate.scramble_grid) per model, and the
scrambling sweep's grids (evaluate.sweep_grids) when studies.sweep runs it."""


rule evaluate:
    input:
        model=rules.train.output.best,
        manifest=rules.split.output[0],
    output:
        metrics="results/metrics/{model}/seed{seed}.json",
        predictions="results/predictions/{model}/seed{seed}.tsv",
    log:
        "logs/evaluate/{model}_seed{seed}.log",
    benchmark:
        "logs/benchmarks/evaluate/{model}_seed{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: plan.device_job.threads
    resources:
        **plan.device_job.resources,
        **planning.JOB_SIZES["evaluate"],
    params:
        cli=BAGNET,
        section=plan.evaluate_section(),
        device=plan.device_job.device,
    shell:
        "{params.cli} evaluate --params {params.section:q} --checkpoint {input.model} --manifest {input.manifest} "
        "--metrics {output.metrics} --predictions {output.predictions} --device {params.device} "
        "--threads {threads} > {log} 2>&1"
