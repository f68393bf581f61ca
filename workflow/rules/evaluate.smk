"""Evaluation stage: validation, test and scrambled test accuracy (evaluate.scramble_grid) per model."""


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
    threads: compute()["threads"]
    resources:
        **gpu_resources(job_gpus(), "evaluate"),
    params:
        cli=BAGNET,
        evaluate=lambda wildcards: config["evaluate"],
        sweep=" ".join(str(g) for g in config["evaluate"]["sweep_grids"]),
        device=compute()["device"],
    shell:
        "{params.cli} evaluate --checkpoint {input.model} --manifest {input.manifest} "
        "--metrics {output.metrics} --predictions {output.predictions} "
        "--scramble-grid {params.evaluate[scramble_grid]} --sweep-grids {params.sweep} "
        "--scramble-seed {params.evaluate[scramble_seed]} "
        "--batch-size {params.evaluate[batch_size]} --device {params.device} --threads {threads} > {log} 2>&1"
