"""Training stage: pretrained weights fetched once, then one job per model.

The per-epoch resume checkpoint lives outside the outputs, so a failed or killed job keeps it.
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
    shell:
        "{params.cli} fetch-weights --model {wildcards.model} {params.weights} --out {output} > {log} 2>&1"



rule train:
    input:
        manifest="results/data/manifest.tsv",
        weights=weights_record_input,
    output:
        best="results/models/{model}/best.pt",
        history="results/models/{model}/history.csv",
    log:
        "logs/train/{model}.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["train"]["threads"]
    resources:
        gpu=train_gpus(),
    params:
        cli=BAGNET,
        checkpoint="results/checkpoints/{model}/last.pt",
        train=lambda wildcards: config["train"],
        weights=weights_args,
    shell:
        "{params.cli} train --manifest {input.manifest} --model {wildcards.model} "
        "--best {output.best} --history {output.history} --checkpoint {params.checkpoint} "
        "--image-size {params.train[image_size]} --epochs {params.train[epochs]} "
        "--batch-size {params.train[batch_size]} --lr {params.train[lr]} "
        "--weight-decay {params.train[weight_decay]} --head {params.train[head]} {params.weights} "
        "--seed {params.train[seed]} --device {params.train[device]} --threads {threads} > {log} 2>&1"
