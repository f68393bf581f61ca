"""Pretraining on ImageNet or Imagenette, one process per rank (launched with torchrun for DDP)."""

from __future__ import annotations

import argparse
import json
import sys

from .arguments import NON_NEGATIVE, add_device_options, add_recipe_options, model_help, settings_values


def _pretrain(args: argparse.Namespace) -> None:
    import torch

    from ..compute.device import claim_device, device_line
    from ..training import distributed
    from ..training.pretrain import pretrain, pretrain_settings

    settings = pretrain_settings(settings_values(args))
    slot = claim_device(settings.device, args.gpus)
    ranks = distributed.init_group(settings.device)
    try:
        torch.set_num_threads(max(1, args.threads // ranks.local_world))  # --threads: the cores of one node
        print(device_line(str(ranks.device), slot), file=sys.stderr, flush=True)
        result = pretrain(
            split_table=args.split,
            settings=settings,
            ranks=ranks,
            out_path=args.out,
            history_path=args.history,
            checkpoint_path=args.checkpoint,
            workers=args.workers,
        )
    finally:
        distributed.close_group()
    if ranks.is_main:
        print(json.dumps(result))


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pretrain", help="pretrain a network on ImageNet/Imagenette (launch with torchrun for DDP)"
    )
    p.add_argument("--split", required=True, help="TSV from holdout-split: split (train|val), class, path")
    p.add_argument("--model", required=True, help=model_help())
    p.add_argument("--out", required=True, help="best weights, loadable as a weights file for fine-tuning")
    p.add_argument("--history", required=True)
    p.add_argument("--checkpoint", required=True, help="per-epoch resume checkpoint (kept on failure)")
    add_recipe_options(p, "JSON object of TrainSettings values; batch_size is global")
    p.add_argument("--seed", type=NON_NEGATIVE, required=True)
    p.add_argument("--workers", type=NON_NEGATIVE, required=True, help="data-loading worker processes per rank")
    add_device_options(p)
    p.set_defaults(func=_pretrain)
