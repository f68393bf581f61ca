"""Planning helpers of the pretrain stage (its rules: workflow/rules/pretrain.smk)."""


def pretrain_gpus():
    """One GPU per torchrun process unless pretraining on the CPU (all on one node: see profiles/)."""
    return planning.gpus_for_device(config["pretrain"]["device"], per_job=config["pretrain"]["processes"])


def pretrain_options(wildcards):
    """pretrain.options (TrainSettings overrides of the recipe) as a quoted JSON object."""
    return shlex.quote(json.dumps(config["pretrain"]["options"], sort_keys=True))


def pretrain_outputs():
    dataset = config["pretrain"]["dataset"]
    if dataset == "none":
        return []
    return [f"results/pretrain/{dataset}_split.tsv"] + [pretrained_weights(m) for m in config["pretrain"]["models"]]
