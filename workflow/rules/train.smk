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
        weights=weights_args,
        model=model_name,
    shell:
        "{params.cli} fetch-weights --model {params.model} {params.weights} --out {output} > {log} 2>&1"


rule train:
    input:
        manifest=rules.split.output[0],
        weights=weights_record_input,
    output:
        best="results/models/{model}/seed{seed}/best.pt",
        history="results/models/{model}/seed{seed}/history.csv",
    log:
        "logs/train/{model}_seed{seed}.log",
    benchmark:
        "logs/benchmarks/train/{model}_seed{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: compute()["threads"]
    resources:
        **gpu_resources(job_gpus()),
    params:
        cli=BAGNET,
        checkpoint="results/checkpoints/{model}/seed{seed}/last.pt",
        recipe=config["train"]["recipe"],
        options=train_options,
        device=compute()["device"],
        weights=weights_args,
        record=weights_record_arg,
        model=model_name,
    shell:
        "{params.cli} train --manifest {input.manifest} --model {params.model} "
        "--best {output.best} --history {output.history} --checkpoint {params.checkpoint} "
        "--recipe {params.recipe} --options {params.options} {params.weights} {params.record} "
        "--seed {wildcards.seed} --device {params.device} --threads {threads} > {log} 2>&1"
