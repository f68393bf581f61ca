"""Pretraining (BagNets-v2): torchrun DDP over pretrain.processes ranks on each of pretrain.nodes nodes, then the
best weights feed fine-tuning wherever weights.models.<name> is ``pretrained``.

The per-epoch resume checkpoint lives outside the outputs, so a killed or preempted job continues."""

from bagnet_repro.config.datasets import PRETRAIN_DATASETS


rule pretrain:
    input:
        split=rules.pretrain_split.output[0],
    output:
        weights="results/pretrained/{dataset}/{model}/weights.pt",
        history="results/pretrained/{dataset}/{model}/history.csv",
    log:
        "logs/pretrain/{dataset}_{model}.log",
    benchmark:
        "logs/benchmarks/pretrain/{dataset}_{model}.tsv"
    wildcard_constraints:
        dataset="|".join(PRETRAIN_DATASETS),
    conda:
        "../../envs/torch.yaml"
    threads: plan.pretrain_job.threads
    resources:
        **plan.pretrain_job.resources,  # one node, or pretrain.nodes with one task each
        **planning.JOB_SIZES["pretrain"],
    params:
        launch=lambda wildcards, threads: plan.pretrain_launch(TORCHRUN, threads),
        # beside its run's results (a prefixed module's too)
        checkpoint=lambda wildcards, output: run_place(
            output.weights, "results/pretrained/", "results/checkpoints/pretrain/"
        )
        + f"{wildcards.dataset}/{wildcards.model}/last.pt",
        recipe=config["pretrain"]["recipe"],
        options=plan.pretrain_options(),
        seed=config["pretrain"]["train_seed"],
        workers=config["pretrain"]["workers"],
        device=plan.pretrain_job.device,
    shell:
        "{params.launch} -m bagnet_repro pretrain --split {input.split} "
        "--model {wildcards.model} --out {output.weights} --history {output.history} "
        "--checkpoint {params.checkpoint} --recipe {params.recipe} --options {params.options} "
        "--seed {params.seed} --workers {params.workers} --device {params.device} --threads {threads} "
        "> {log} 2>&1"
