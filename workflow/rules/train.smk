"""Training stage: pretrained weights fetched once, then one job per model.

The per-epoch resume checkpoint lives outside the outputs, so a failed or killed job keeps it; a finished
job deletes it (it is several times the size of the weights).
"""

from bagnet_repro.config.recipes import recipe_values


def train_settings():
    """The training settings of the config: the recipe's preset with the keys given under ``train:`` on top.

    Resolved here so each train command shows every value it runs with (and a change of recipe reruns it)."""
    overrides = {k: v for k, v in config["train"].items() if k != "recipe"}
    try:
        return recipe_values(config["train"]["recipe"], overrides)
    except UserError as exc:
        sys.exit(f"config error at 'train.recipe': {exc}")


def train_options(wildcards):
    """The resolved training settings, as a quoted JSON object."""
    return shlex.quote(json.dumps(train_settings(), sort_keys=True))


def weights_record(model):
    """The fetch_weights record of ``model``'s weights; None when nothing is fetched (none, or pretrained here)."""
    if config["weights"]["models"].get(model, "none") in ("none", "pretrained"):
        return None
    return expand(rules.fetch_weights.output[0], model=model)[0]


def weights_record_input(wildcards):
    """Training waits for the verified download (a localrule on the submit host) or for the pretraining."""
    if model_weights(wildcards.model) == "none":
        return []
    return weights_record(wildcards.model) or pretrained_weights(wildcards.model)


def weights_record_arg(wildcards, input):
    """``--weights-record`` with the record the job is given: it loads the file fetch_weights verified."""
    return f"--weights-record {shlex.quote(input.weights)}" if weights_record(wildcards.model) else ""


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
    shell:
        "{params.cli} train --manifest {input.manifest} --model {wildcards.model} "
        "--best {output.best} --history {output.history} --checkpoint {params.checkpoint} "
        "--recipe {params.recipe} --options {params.options} {params.weights} {params.record} "
        "--seed {wildcards.seed} --device {params.device} --threads {threads} > {log} 2>&1"
