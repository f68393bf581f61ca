"""Pretraining data: ImageNet from Kaggle, its validation images by class, the stratified hold-out split."""

from __future__ import annotations

import argparse
import json

from .arguments import NON_NEGATIVE, fraction


def _imagenet_val(args: argparse.Namespace) -> None:
    from ..data.imagenet import prepare_val
    from ..files.atomic import write_text_atomic

    counts = prepare_val(val_dir=args.val_dir, solution_csv=args.solution)
    write_text_atomic(
        args.out,
        json.dumps({"val_dir": args.val_dir, "classes": len(counts), "images": sum(counts.values())}, indent=2) + "\n",
    )


def _imagenet_kaggle(args: argparse.Namespace) -> None:
    from ..data.kaggle import download_imagenet
    from ..files.atomic import write_text_atomic

    record = download_imagenet(root=args.root, competition=args.competition, cli=args.cli)
    write_text_atomic(args.out, json.dumps(record, indent=2) + "\n")


def _holdout_split(args: argparse.Namespace) -> None:
    from ..data.imagenet import holdout_split

    print(json.dumps(holdout_split(train_dir=args.train_dir, out=args.out, holdout=args.holdout, seed=args.seed)))


def register(subparsers) -> None:
    p = subparsers.add_parser("imagenet-val", help="move ImageNet validation images into one folder per WNID")
    p.add_argument("--val-dir", required=True, help="the flat folder of <ImageId>.JPEG files")
    p.add_argument("--solution", required=True, help="LOC_val_solution.csv")
    p.add_argument("--out", required=True, help="JSON record written when done")
    p.set_defaults(func=_imagenet_val)

    p = subparsers.add_parser("imagenet-kaggle", help="download ImageNet from Kaggle into the Kaggle layout")
    p.add_argument("--root", required=True, help="where ILSVRC/ and LOC_val_solution.csv go")
    p.add_argument("--out", required=True, help="JSON record written when done")
    p.add_argument("--competition", default="imagenet-object-localization-challenge")
    p.add_argument("--cli", default="kaggle", help="the kaggle executable")
    p.set_defaults(func=_imagenet_kaggle)

    p = subparsers.add_parser("holdout-split", help="stratified train/hold-out split of <dir>/<class>/ images")
    p.add_argument("--train-dir", required=True)
    p.add_argument("--out", required=True, help="TSV: split (train|val), class, path")
    p.add_argument("--holdout", type=fraction, required=True)
    p.add_argument("--seed", type=NON_NEGATIVE, required=True)
    p.set_defaults(func=_holdout_split)
