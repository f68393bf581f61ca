"""The data sets each optional stage accepts, in one place.

Torch-free on purpose: the Snakefile reads these names when it parses the workflow (its wildcard constraints
and config checks), the stages' code reads them too, and tests/test_facts.py holds the schema's enums equal.
"""

from __future__ import annotations

from .recipes import RECIPES

# A user's image folder without train/ and test/: the inventory's split column for its images, which the split
# step divides by the configured fractions (data/folder.py, data/split.py; the report says how it was split).
FOLDER_POOL = "pool"

# BagNets-v2 pretraining (pretrain.dataset; "none" skips it).
PRETRAIN_DATASETS = ("imagenet", "imagenette")

# The layer-wise feature-amount study (feature_amounts.dataset): torchvision's sets (name -> its class in
# torchvision.datasets), downloaded once per machine, and the workflow's own data read from its manifest.
FEATURE_AMOUNT_TORCHVISION = {
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
    "mnist": "MNIST",
    "fashionmnist": "FashionMNIST",
    "kmnist": "KMNIST",
}
FEATURE_AMOUNT_MANIFEST = ("scene15",)  # the 15-scene or demo images: results/data/manifest.tsv
FEATURE_AMOUNT_DATASETS = (*FEATURE_AMOUNT_TORCHVISION, *FEATURE_AMOUNT_MANIFEST)

# The study's image size: its recipe's (the one place of the value is config/recipes.py).
FEATURE_AMOUNT_IMAGE_SIZE: int = RECIPES["feature_amounts"]["image_size"]

# What Kaggle's ImageNet archive unpacks to (train folder, val folder, val labels): the workflow plans with it.
IMAGENET_KAGGLE_LAYOUT = ("ILSVRC/Data/CLS-LOC/train", "ILSVRC/Data/CLS-LOC/val", "LOC_val_solution.csv")
