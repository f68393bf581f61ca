"""Planning helpers of the pretrain data stage (its rules: workflow/rules/pretrain_data.smk)."""

from bagnet_repro.config import datasets as data_catalog
from bagnet_repro.config.urls import archive_name
IMAGENET_TRAIN_DIR = data_catalog.IMAGENET_KAGGLE_LAYOUT[0]


def imagenette_archive():
    url = config["pretrain"]["imagenette"]["url"]
    return archive_name({"url": url})


def imagenet_download_record(wildcards):
    """With imagenet_source kaggle, the validation folders wait for the download (a localrule)."""
    return ["results/pretrain/imagenet_kaggle.json"] if config["pretrain"]["imagenet_source"] == "kaggle" else []


def pretrain_data_input(wildcards):
    if wildcards.dataset == "imagenette":
        return "results/pretrain/imagenette"
    return "results/pretrain/imagenet_val.json"


def pretrain_train_dir(wildcards, input):
    """The training images of the pretraining set (class folders)."""
    if wildcards.dataset == "imagenette":
        tops = [p for p in Path(input[0]).iterdir() if p.is_dir()]
        return str(tops[0] / "train") if len(tops) == 1 and (tops[0] / "train").is_dir() else f"{input[0]}/train"
    return f"{config['pretrain']['imagenet_dir']}/{IMAGENET_TRAIN_DIR}"
