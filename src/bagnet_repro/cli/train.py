"""The training stage: pretrained weights fetched once into the cache, then fine-tuning per model and seed."""

from __future__ import annotations

import argparse
import json

from .arguments import (
    NON_NEGATIVE,
    add_device_options,
    add_recipe_options,
    add_weights_file_options,
    model_help,
    settings_values,
    start_compute,
    weights_arg,
)

WEIGHTS_HELP = "none, a source the model's record offers (config/networks.py), or a path/URL"
RECORD_HELP = "the fetch-weights record of --weights: load the verified file it names, not the cache's"


def _fetch_weights(args: argparse.Namespace) -> None:
    from ..files.atomic import sha256_file, write_text_atomic
    from ..models.registry import fetch_weights_file

    path = fetch_weights_file(name=args.model, weights=weights_arg(args), cache=args.weights_cache)
    record = {
        "model": args.model,
        "weights": args.weights or "none",
        "file": str(path) if path else None,
        "sha256": sha256_file(path) if path else None,
    }
    write_text_atomic(args.out, json.dumps(record, indent=2) + "\n")
    print(json.dumps(record))


def _train(args: argparse.Namespace) -> None:
    from ..config.train_settings import TrainSettings
    from ..models.weights import recorded_file
    from ..training.finetune import train

    start_compute(args)
    settings = TrainSettings(**settings_values(args), weights=weights_arg(args))
    weights_file = (
        recorded_file(args.weights_record, args.model, args.weights or "none") if args.weights_record else None
    )
    print(
        json.dumps(
            train(
                manifest_path=args.manifest,
                settings=settings,
                best_path=args.best,
                history_path=args.history,
                checkpoint_path=args.checkpoint,
                weights_cache=args.weights_cache,
                weights_file=weights_file,
            )
        )
    )


def register(subparsers) -> None:
    p = subparsers.add_parser("fetch-weights", help="download and verify a model's pretrained weights into the cache")
    p.add_argument("--model", required=True, help=model_help())
    p.add_argument("--weights", required=True, help=WEIGHTS_HELP)
    add_weights_file_options(p)
    p.add_argument("--out", required=True, help="JSON record of the file and its sha256")
    p.set_defaults(func=_fetch_weights)

    p = subparsers.add_parser("train", help="fine-tune one model and keep its best-validation weights")
    p.add_argument("--manifest", required=True)
    p.add_argument("--model", required=True, help=model_help())
    p.add_argument("--best", required=True)
    p.add_argument("--history", required=True)
    p.add_argument("--checkpoint", required=True, help="per-epoch resume checkpoint (kept on failure)")
    add_recipe_options(p, "JSON object of TrainSettings values that override the recipe")
    p.add_argument("--weights", default=None, help=WEIGHTS_HELP)
    add_weights_file_options(p)
    p.add_argument("--weights-record", default=None, help=RECORD_HELP)
    p.add_argument("--seed", type=NON_NEGATIVE, required=True)
    add_device_options(p)
    p.set_defaults(func=_train)
