"""Training stage: one job per model; the per-epoch resume checkpoint lives outside the outputs."""


rule train:
    input:
        manifest="results/data/manifest.tsv",
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
    shell:
        "{params.cli} train --manifest {input.manifest} --model {wildcards.model} "
        "--best {output.best} --history {output.history} --checkpoint {params.checkpoint} "
        "--image-size {params.train[image_size]} --epochs {params.train[epochs]} "
        "--batch-size {params.train[batch_size]} --lr {params.train[lr]} "
        "--weight-decay {params.train[weight_decay]} --head {params.train[head]} "
        "--seed {params.train[seed]} --device {params.train[device]} --threads {threads} > {log} 2>&1"
