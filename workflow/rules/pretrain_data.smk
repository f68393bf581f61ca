"""Pretraining data (BagNets-v2): Imagenette from its public archive, or ImageNet in the Kaggle layout
(ILSVRC/Data/CLS-LOC/{train,val} and LOC_val_solution.csv), local or downloaded with the kaggle CLI;
validation folders per class and the 95/5 stratified hold-out split of the training images."""

from bagnet_repro.config.datasets import PRETRAIN_DATASETS


localrules:
    imagenette_download,
    imagenet_kaggle,


rule imagenette_download:
    output:
        "results/downloads/pretrain/{archive}",
    log:
        "logs/pretrain/download_{archive}.log",
    wildcard_constraints:
        archive=r"[^/]+",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        # the archive's url, sha256 and md5 (pretrain.imagenette); a null sha256 goes as empty: no sha256 check
        section=plan.section("pretrain.imagenette", sha256=config["pretrain"]["imagenette"]["sha256"] or ""),
        retries=config["data"]["retries"],
        # verified downloads are kept here as well as in the output (a hard link): Snakemake deletes an output
        # before rerunning its rule, and the kept copy is reused while it verifies; partial transfers wait here too
        store=lambda wildcards, output: run_place(output[0], "results/downloads/", "results/downloads/.verified"),
    shell:
        "{params.cli} download --params {params.section:q} --out {output} --retries {params.retries} "
        "--store {params.store:q} > {log} 2>&1"


rule imagenette_extract:
    input:
        lambda wildcards: expand(rules.imagenette_download.output[0], archive=plan.imagenette_archive()),
    output:
        directory("results/pretrain/imagenette"),
    log:
        "logs/pretrain/imagenette_extract.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
    shell:
        "{params.cli} extract --archive {input} --out {output} > {log} 2>&1"


rule imagenet_kaggle:
    output:
        "results/pretrain/imagenet_kaggle.json",
    log:
        "logs/pretrain/imagenet_kaggle.log",
    conda:
        "../../envs/kaggle.yaml"
    params:
        cli=BAGNET,
        root=lambda wildcards: config["pretrain"]["imagenet_dir"],
    shell:
        "{params.cli} imagenet-kaggle --root {params.root:q} --out {output} > {log} 2>&1"


rule imagenet_val:
    input:
        lambda wildcards: plan.imagenet_download_input(rules.imagenet_kaggle.output),
    output:
        "results/pretrain/imagenet_val.json",
    log:
        "logs/pretrain/imagenet_val.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        root=lambda wildcards: config["pretrain"]["imagenet_dir"],
    shell:
        "{params.cli} imagenet-val --val-dir {params.root:q}/ILSVRC/Data/CLS-LOC/val "
        "--solution {params.root:q}/LOC_val_solution.csv --out {output} > {log} 2>&1"


rule pretrain_split:
    input:
        lambda wildcards: plan.pretrain_data_input(
            wildcards.dataset, rules.imagenette_extract.output[0], rules.imagenet_val.output[0]
        ),
    output:
        "results/pretrain/{dataset}_split.tsv",
    log:
        "logs/pretrain/{dataset}_split.log",
    wildcard_constraints:
        dataset="|".join(PRETRAIN_DATASETS),
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        train_dir=lambda wildcards, input: plan.pretrain_train_dir(wildcards.dataset, input[0]),
        holdout=config["pretrain"]["holdout"],
        seed=config["pretrain"]["seed"],
    shell:
        "{params.cli} holdout-split --train-dir {params.train_dir:q} --out {output} "
        "--holdout {params.holdout} --seed {params.seed} > {log} 2>&1"
