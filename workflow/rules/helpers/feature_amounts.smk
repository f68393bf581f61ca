"""Planning helpers of the feature amounts stage (its rules: workflow/rules/feature_amounts.smk)."""

from bagnet_repro.config import datasets as data_catalog
from bagnet_repro.config.cache_paths import datasets_cache
from bagnet_repro.config.recipes import recipe_values

# Mundt et al.'s feature-amount study: its folder names the data set and depth, so studies do not mix.
FEATURE_AMOUNT_STUDY = f"{config['feature_amounts']['dataset']}_depth{config['feature_amounts']['depth']}"


FEATURE_AMOUNT_DIR = f"results/feature_amounts/{FEATURE_AMOUNT_STUDY}"


FEATURE_AMOUNT_DOWNLOADS = tuple(data_catalog.FEATURE_AMOUNT_TORCHVISION)


def feature_amount_variants():
    """The configured model ids (in the family's order), then the uniform network if asked for."""
    # Imported and computed only when the study's outputs are asked for: the family takes seconds to list,
    # and every start (every cluster job parses the workflow) would otherwise pay for it.
    from bagnet_repro.feature_amounts.family import UNIFORM, select_ids

    study = config["feature_amounts"]
    image_size = recipe_values(study["recipe"], study["options"]).get(
        "image_size", data_catalog.FEATURE_AMOUNT_IMAGE_SIZE
    )
    try:
        ids = select_ids(study["depth"], study["variants"], image_size)
    except ValueError as exc:
        sys.exit(f"config error at 'feature_amounts.variants': {exc}")
    return [str(i) for i in ids] + ([UNIFORM] if study["uniform"] else [])


def feature_amount_metrics():
    return expand(
        f"{FEATURE_AMOUNT_DIR}/{{variant}}/seed{{seed}}/metrics.json",
        variant=feature_amount_variants(),
        seed=config["feature_amounts"]["seeds"],
    )


def feature_amount_cache():
    """Where torchvision's data sets are downloaded once per machine."""
    return str(datasets_cache(config["feature_amounts"]["cache"]))


def feature_amount_data_file():
    """The run's data: this workflow's manifest (scene15), or the record of the downloaded data set."""
    dataset = config["feature_amounts"]["dataset"]
    if dataset == "scene15":
        return rules.split.output[0]
    return f"results/feature_amounts/data/{dataset}.json"


def feature_amount_options(wildcards):
    """feature_amounts.options (TrainSettings keys over the recipe) as a quoted JSON object."""
    return shlex.quote(json.dumps(config["feature_amounts"]["options"], sort_keys=True))


def feature_amount_outputs():
    if config["feature_amounts"]["dataset"] == "none":
        return []
    figures = [
        f"report/figures/feature_amounts_{name}.{ext}"
        for name in ("accuracy", "profiles", "parameters")
        for ext in ("pdf", "png")
    ]
    return ["report/tables/feature_amounts.tsv", "report/figures/feature_amounts.html"] + figures
