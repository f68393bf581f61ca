"""Training stage: pretrained weights fetched once, then one job per model.

The per-epoch resume checkpoint lives outside the outputs, so a failed or killed job keeps it; a finished
job deletes it (it is several times the size of the weights).
"""


localrules:
    fetch_weights,


rule fetch_weights:
    output:
        "results/weights/{model}.json",
    log:
        "logs/fetch_weights/{model}.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        weights=lambda wildcards: plan.weights_options(wildcards.model, rules.pretrain.output.weights),
        model=lambda wildcards: model_from_file_name(wildcards.model),
    shell:
        "{params.cli} fetch-weights --model {params.model} {params.weights} --out {output} > {log} 2>&1"


rule train:
    input:
        manifest=rules.split.output[0],
        weights=lambda wildcards: plan.weights_input(
            wildcards.model, rules.fetch_weights.output[0], rules.pretrain.output.weights
        ),
    output:
        best="results/models/{model}/seed{seed}/best.pt",
        history="results/models/{model}/seed{seed}/history.csv",
    log:
        "logs/train/{model}_seed{seed}.log",
    benchmark:
        "logs/benchmarks/train/{model}_seed{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: plan.device_job.threads
    resources:
        **plan.device_job.resources,
        **planning.JOB_SIZES["train"],
    params:
        cli=BAGNET,
        # beside its run's results (a config variant's own folder too): results/checkpoints/<model>/seed<seed>/
        checkpoint=lambda wildcards, output: run_place(output.best, "results/models/", "results/checkpoints/")
        + f"{wildcards.model}/seed{wildcards.seed}/last.pt",
        recipe=config["train"]["recipe"],
        options=plan.train_options(),
        device=plan.device_job.device,
        weights=lambda wildcards: plan.weights_options(wildcards.model, rules.pretrain.output.weights),
        record=lambda wildcards, input: plan.weights_record_option(wildcards.model, input.weights),
        model=lambda wildcards: model_from_file_name(wildcards.model),
    shell:
        "{params.cli} train --manifest {input.manifest} --model {params.model} "
        "--best {output.best} --history {output.history} --checkpoint {params.checkpoint} "
        "--recipe {params.recipe} --options {params.options} {params.weights} {params.record} "
        "--seed {wildcards.seed} --device {params.device} --threads {threads} > {log} 2>&1"
