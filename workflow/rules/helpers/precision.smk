"""Planning helpers of the precision stage (its rules: workflow/rules/precision.smk)."""


def max_images_arg(wildcards):
    limit = config["precision"]["max_images"]
    return f"--max-images {limit}" if limit else ""


PRECISION_SOURCES = ("trained", "imagenet")


def precision_runs():
    """(source, model) of the precision study: every trained model (first seed), plus the original ImageNet
    BagNets whose weights the config fetches."""
    trained = [("trained", m) for m in models()]
    imagenet = [("imagenet", m) for m in heatmap_models() if model_weights(m) == "imagenet"]
    return trained + imagenet


def precision_inputs(name):
    return [f"results/precision/{source}/{model}/{name}" for source, model in precision_runs()]


def precision_model_input(wildcards):
    """A trained run's best.pt (first seed), or the verified ImageNet weights of an original BagNet."""
    if wildcards.source == "trained":
        return expand(rules.train.output.best, model=wildcards.model, seed=seeds()[0])[0]
    return weights_record(wildcards.model)


def precision_model_args(wildcards, input):
    """The trained checkpoint, or the original BagNet with the record of its verified ImageNet weights."""
    if wildcards.source == "trained":
        return f"--checkpoint {shlex.quote(input.model)}"
    return f"--model {wildcards.model} --weights-record {shlex.quote(input.model)}"
