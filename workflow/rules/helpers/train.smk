"""Planning helpers of the train stage (its rules: workflow/rules/train.smk)."""

from bagnet_repro.training.recipes import recipe_values


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


def weights_record_input(wildcards):
    """Training waits for the verified download (a localrule on the submit host) or for the pretraining."""
    value = config["weights"]["models"].get(wildcards.model, "none")
    if value == "none":
        return []
    if value == "pretrained":
        return pretrained_weights(wildcards.model)
    return f"results/weights/{wildcards.model}.json"
