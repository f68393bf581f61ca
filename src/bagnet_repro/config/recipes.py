"""Training recipes as presets (``RECIPES``: the one list of their names; docs/recipes.md tables their values).

A recipe is a set of ``TrainSettings`` values (settings.py) and the one place they live; keys given explicitly in the
config (``train:`` or ``pretrain.options``) win over the preset. Torch-free: the Snakefile resolves the
settings at parse time, so every train command shows the values it runs with.
"""

from __future__ import annotations

RECIPES: dict[str, dict] = {
    # The report: resize only, Adam 4e-5, batch 4, 40 epochs, keep the best validation accuracy.
    "report": {
        "optimizer": "adam",
        "lr": 4e-5,
        "batch_size": 4,
        "epochs": 40,
        "weight_decay": 0.0,
        "scheduler": "none",
        "augment": "none",
        "label_smoothing": 0.0,
        "mix": "none",
        "precision": "fp32",
        "select": "val_acc",
        "patience": 0,
    },
    # The vision-toolbox backbones' recipe: batch 1024 for 100 epochs, SGD, warm-up + cosine, label
    # smoothing, strong augmentation, CutMix/MixUp, mixed precision. lr is per 1024 images (0.5 at batch
    # 1024), scaled to the batch size.
    "modern": {
        "optimizer": "sgd",
        "lr": 0.5,
        "lr_scale_batch": 1024,
        "batch_size": 1024,
        "epochs": 100,
        "momentum": 0.9,
        "weight_decay": 2e-5,
        "scheduler": "cosine",
        "warmup_epochs": 5,
        "warmup_factor": 0.01,
        "label_smoothing": 0.1,
        "augment": "modern",
        "mix": "cutmix_mixup",
        "precision": "bf16",
        "select": "val_acc",
        "patience": 0,
    },
    # BagNets-v2: their ImageNet run's global batch 1024 for up to 90 epochs, SGD lr 0.01 x
    # batch/256, StepLR(30, 0.1), early stopping on validation loss.
    "bagnets_v2": {
        "optimizer": "sgd",
        "lr": 0.01,
        "lr_scale_batch": 256,
        "batch_size": 1024,
        "epochs": 90,
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "scheduler": "step",
        "step_size": 30,
        "gamma": 0.1,
        "augment": "none",
        "mix": "none",
        "label_smoothing": 0.0,
        "precision": "fp16",
        "select": "val_loss",
        "patience": 10,
        "min_delta": 1e-4,
    },
    # From random initialisation on one GPU (issue "On a real GPU"): AdamW 2e-3 (weight decay 0.05) at batch
    # 128 for 100 epochs, 5 warm-up epochs then cosine, label smoothing 0.1, random resized crop + flip
    # batched on the device, bf16 autocast on CUDA (fp32 elsewhere), channels_last, and BatchNorm at
    # PyTorch's default momentum in every layer: the original BagNet stem's 0.001 suits fine-tuning ImageNet
    # statistics but never settles from random init. AdamW rather than SGD: one learning rate that trains
    # all seven architectures from scratch, where SGD needed a per-model rate on the demo.
    "scratch": {
        "optimizer": "adamw",
        "lr": 2e-3,
        "batch_size": 128,
        "epochs": 100,
        "weight_decay": 0.05,
        "scheduler": "cosine",
        "warmup_epochs": 5,
        "warmup_factor": 0.1,
        "label_smoothing": 0.1,
        "augment": "crop_flip",
        "mix": "none",
        "precision": "auto",
        "channels_last": True,
        "bn_momentum": 0.1,
        "eval_batch_size": 256,
        "select": "val_acc",
        "patience": 0,
    },
    # The layer-wise feature-amount study (Mundt et al.): batch 128, 150 epochs, SGD lr 0.01, momentum 0.9, wd
    # 5e-4, SGDR per mini-batch (first cycle 10 epochs, doubling: 10+20+40+80 = 150, down to 1e-5); a variant whose
    # train accuracy is below twice chance after the first cycle is abandoned. Inputs are not normalized unless
    # asked for (normalization: data, the training set's per-channel mean/std), as in the authors' code.
    # Augmentation by data set, as theirs: pad-4 random crop + flip on CIFAR-10/100, none on the MNIST family
    # (feature_amounts/data.py). Their SGDR batch for batch (sgdr_authors: each restart one batch late, see
    # training/optimization.py); scheduler sgdr is the same schedule restarting on the epoch boundary.
    "feature_amounts": {
        "optimizer": "sgd",
        "lr": 0.01,
        "batch_size": 128,
        "epochs": 150,
        "momentum": 0.9,
        "weight_decay": 5e-4,
        "scheduler": "sgdr_authors",
        "restart_epochs": 10,
        "min_lr": 1e-5,
        "abandon_after": 10,
        "augment": "by_dataset",
        "mix": "none",
        "label_smoothing": 0.0,
        "precision": "fp32",
        "select": "val_acc",
        "patience": 0,
        "image_size": 32,
        "head": "linear",
        "normalization": "none",
    },
}


def recipe_values(name: str, overrides: dict) -> dict:
    """The preset ``name`` updated with the explicit ``overrides`` (None values are ignored)."""
    from ..errors import UserError

    if name not in RECIPES:
        raise UserError(f"unknown recipe {name!r}; choose one of: {', '.join(RECIPES)}")
    values = dict(RECIPES[name])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return values
