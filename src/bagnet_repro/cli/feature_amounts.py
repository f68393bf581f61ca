"""Mundt et al.'s layer-wise feature-amount study: its data sets, one run per (variant, seed), and the table."""

from __future__ import annotations

import argparse
import json

from ..config.datasets import FEATURE_AMOUNT_DATASETS
from .arguments import NON_NEGATIVE, add_device_options, add_recipe_options, count, settings_values, start_compute

DATASET_HELP = f"one of {', '.join(FEATURE_AMOUNT_DATASETS)} (scene15 is this workflow's data)"


def _feature_amount_data(args: argparse.Namespace) -> None:
    from ..feature_amounts.data import fetch_dataset

    record = fetch_dataset(name=args.dataset, root=args.root, record_path=args.out)
    print(f"{args.dataset}: {len(record['files'])} files in {record['root']}")


def out_of_memory_line(exc: RuntimeError) -> str:
    """A run that does not fit, with advice in this command's own options (it has no --memory-mb)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (
        f"out of memory ({first}); lower batch_size or image_size in --options (the config's "
        "feature_amounts.options), or run on a device with more memory (--device)"
    )


def _feature_amount_run(args: argparse.Namespace) -> None:
    from ..compute.memory import is_out_of_memory
    from ..config.train_settings import TrainSettings
    from ..errors import UserError
    from ..feature_amounts.study import run_variant

    start_compute(args)
    settings = TrainSettings(**settings_values(args))
    try:
        summary = run_variant(
            dataset=args.dataset,
            data_file=args.data,
            depth=args.depth,
            key=args.variant,
            settings=settings,
            metrics_path=args.metrics,
            history_path=args.history,
            checkpoint_path=args.checkpoint,
        )
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        raise UserError(out_of_memory_line(exc)) from None
    print(json.dumps(summary))


def _feature_amount_table(args: argparse.Namespace) -> None:
    from ..feature_amounts.study import write_table

    rows = write_table(metrics_paths=args.metrics, out_path=args.out)
    print(f"{len(rows)} runs in {args.out}")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "feature-amount-data",
        help="download a torchvision data set once into a cache, recording its files' sha256 (Mundt et al.'s study)",
    )
    p.add_argument("--dataset", required=True, help=DATASET_HELP)
    p.add_argument("--root", required=True, help="the cache folder torchvision downloads into")
    p.add_argument("--out", required=True, help="JSON record of the files (the runs' data key)")
    p.set_defaults(func=_feature_amount_data)

    p = subparsers.add_parser("feature-amount-run", help="train one variant of the feature-amount study")
    p.add_argument("--dataset", required=True, help=DATASET_HELP)
    p.add_argument("--data", required=True, help="the data record (torchvision sets) or the manifest (scene15)")
    p.add_argument("--depth", type=count(10), required=True)
    p.add_argument("--variant", required=True, help="a model id of the family, or uniform")
    p.add_argument("--metrics", required=True)
    p.add_argument("--history", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--model", default="feature_amounts", help=argparse.SUPPRESS)
    add_recipe_options(p, "JSON object of TrainSettings values that override the recipe")
    p.add_argument("--seed", type=NON_NEGATIVE, required=True)
    add_device_options(p)
    p.set_defaults(func=_feature_amount_run)

    p = subparsers.add_parser("feature-amount-table", help="the study's table from its runs' metrics")
    p.add_argument("--metrics", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_feature_amount_table)
