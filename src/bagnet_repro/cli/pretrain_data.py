"""Pretraining data: ImageNet from Kaggle, its validation images by class, the stratified hold-out split."""

from __future__ import annotations

import json

from ..data.kaggle import COMPETITION
from .arguments import at_least, between_0_and_1
from .stages import Stage


def imagenet_val(val_dir: str, solution: str, out: str) -> None:
    """Move ImageNet validation images into one folder per WNID.

    Args:
        val_dir: the flat folder of <ImageId>.JPEG files
        solution: LOC_val_solution.csv
        out: JSON record written when done
    """
    from ..data.imagenet import prepare_val
    from ..files.atomic import write_text_atomic

    counts = prepare_val(val_dir=val_dir, solution_csv=solution)
    write_text_atomic(
        out, json.dumps({"val_dir": val_dir, "classes": len(counts), "images": sum(counts.values())}, indent=2) + "\n"
    )


def imagenet_kaggle(root: str, out: str, competition: str = COMPETITION, cli: str = "kaggle") -> None:
    """Download ImageNet from Kaggle into the Kaggle layout.

    Args:
        root: where ILSVRC/ and LOC_val_solution.csv go
        out: JSON record written when done
        competition: the Kaggle competition whose files are downloaded
        cli: the kaggle executable
    """
    from ..data.kaggle import download_imagenet
    from ..files.atomic import write_text_atomic

    record = download_imagenet(root=root, competition=competition, cli=cli)
    write_text_atomic(out, json.dumps(record, indent=2) + "\n")


def holdout_split(train_dir: str, out: str, holdout: float, seed: int) -> None:
    """Stratified train/hold-out split of <dir>/<class>/ images.

    Args:
        train_dir: the training images, one folder per class
        out: TSV: split (train|val), class, path
        holdout: the share of each class's images held out (val)
        seed: seed of the split's draw
    """
    from ..data.imagenet import holdout_split as split_holdout

    between_0_and_1("--holdout", holdout)
    at_least("--seed", seed, 0)
    print(json.dumps(split_holdout(train_dir=train_dir, out=out, holdout=holdout, seed=seed)))


STAGES = (
    Stage("imagenet-val", imagenet_val),
    Stage("imagenet-kaggle", imagenet_kaggle),
    Stage("holdout-split", holdout_split),
)
