"""The run's settings in words, for the report's data and training paragraphs (built from the config)."""

from __future__ import annotations

from ..config.catalog import main_heatmap_model
from ..config.datasets import FOLDER_POOL
from ..config.report_words import data_name
from ..config.studies import switched_off_text


def _data_description(data: dict) -> str:
    if data["source"] == "demo":
        demo = data["demo"]
        return (
            f"the built-in synthetic demo images ({demo['train_per_class']} training and "
            f"{demo['test_per_class']} test images per class, {demo['width']}x{demo['height']} px), "
            "textures in the 15-scene layout, not the real scenes"
        )
    if data["source"] == "folder":
        return f"the images of {data_name(data)}, read from the folder {data['folder']}"
    if data["source"] == "local":
        return f"the 15-scene images of Lazebnik et al. (2006), read from {data['local_dir']}"
    return "the 15-scene images of Lazebnik et al. (2006), downloaded and checked by the workflow"


def _split_description(config: dict, division: set[str]) -> str:
    """``division``: the split column's values of the inventory (the folder's own train/val/test, or ``pool``)."""
    split = config["split"]
    if config["data"]["source"] == "folder":
        drawn = f"drawn with seed {split['seed']}, stratified by class"
        if FOLDER_POOL in division:
            return (
                f"{drawn}: {split['test_fraction']:.0%} of each class's images for testing, then "
                f"{split['val_fraction']:.0%} of the rest for validation"
            )
        if "val" in division:
            return "the folder's own train, validation and test folders"
        return (
            f"the folder's own train and test folders; {drawn}: {split['val_fraction']:.0%} of the training "
            "images for validation"
        )
    if config["data"].get("split_file"):
        return "the report's own image lists"
    return (
        f"drawn with seed {split['seed']}: a stratified {split['val_fraction']:.0%} of the training images "
        f"for validation, {split['test_per_class']} test images per class"
    )


def _training_description(recipe: str, train: dict, seeds: list[int]) -> str:
    return (
        f"each model is trained with the {recipe} recipe ({train['optimizer']}, learning rate "
        f"{train['lr']:g}, batch {train['batch_size']}, {train['epochs']} epochs, {train['head']} head), "
        f"seeds {', '.join(map(str, seeds))}; the weights of the best validation epoch are kept"
    )


def _weights_description(config: dict) -> str:
    sources = sorted(set(config["weights"]["models"].get(m, "none") for m in config["models"]))
    if sources == ["none"]:
        return (
            "Every model starts from random weights here, while the report fine-tuned ImageNet weights; "
            "accuracies are therefore far from the report's and only the comparisons between models and "
            "conditions carry over."
        )
    return (
        f"The models start from {', '.join(sources)} weights, as the report fine-tuned ImageNet models; "
        "the report does not give its augmentation or schedule beyond its hyper-parameters, so ours are the "
        "recipe above."
    )


def _weight_source(value) -> str:
    """A weights setting as the licence table keys it: its keyword, or ``own`` for a path, URL or {url, sha256}."""
    return value if isinstance(value, str) and "/" not in value and "." not in value else "own"


def run_facts(config: dict, train: dict) -> dict:
    """What the checklist appendix and the Compute section need from the config: data, weights, seeds, numerics."""
    sources = [_weight_source(config["weights"]["models"].get(model, "none")) for model in config["models"]]
    return {
        "data_source": config["data"]["source"],
        "weight_sources": sorted(set(sources) - {"own"}),
        "own_weights": "own" in sources,
        "pretrain_dataset": config["pretrain"]["dataset"],
        "seeds": config["seeds"],
        "models": config["models"],
        "recipe": config["train"]["recipe"],
        "precision": train.get("precision", "not given"),
    }


def heatmap_values(config: dict) -> dict:
    """Which network draws the heatmap figures and which images they show, in words (no BagNet: empty)."""
    main = main_heatmap_model(config["models"])
    heatmaps = config.get("heatmaps") or {}  # a run's config has the schema's defaults filled in
    chosen, count = heatmaps.get("images") or [], heatmaps.get("count", 1)
    if chosen:
        images = f"the configured image{'s' if len(chosen) > 1 else ''} {', '.join(chosen)}"
    else:
        images = f"up to {count} test images of different classes that {main} classifies correctly, picked by it"
    return {"main_model": main or "", "images_text": images if main else ""}


def settings_values(config: dict, train: dict, division: set[str]) -> dict:
    """``train``: the resolved training settings (recipe preset and overrides) the runs used; ``division``: the
    inventory's split column values (how the data came divided)."""
    return {
        "data_name": data_name(config["data"]),
        "data_description": _data_description(config["data"]),
        "split_description": _split_description(config, division),
        "image_size": str(train["image_size"]),
        "training_description": _training_description(config["train"]["recipe"], train, config["seeds"]),
        "weights_description": _weights_description(config),
        # Table 1's scrambled test set: evaluate.scramble_grid squared pieces (the report's 4x4 = 16).
        "scramble_grid": str(config["evaluate"]["scramble_grid"]),
        "scramble_pieces": str(config["evaluate"]["scramble_grid"] ** 2),
        "run": run_facts(config, train),
        "paired_tests": {key: config["evaluate"].get(key) for key in ("reference_model", "paired_tests")},
        "heatmaps": heatmap_values(config),
        "studies_off_text": switched_off_text(config),
    }
