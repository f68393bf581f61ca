"""Receptive fields: the per-layer table of Figure 1 and a per-model summary."""

from __future__ import annotations

import argparse

from .arguments import POSITIVE, count, model_help


def _receptive_fields(args: argparse.Namespace) -> None:
    from ..receptive.tables import write_receptive_fields

    write_receptive_fields(
        models=args.models,
        image_size=args.image_size,
        measure_size=args.measure_size,
        layers_path=args.layers,
        summary_path=args.summary,
    )


def register(subparsers) -> None:
    p = subparsers.add_parser("receptive-fields", help="per-layer receptive fields (Figure 1) and a per-model summary")
    p.add_argument("--models", nargs="+", required=True, help=model_help("networks"))
    p.add_argument("--image-size", type=POSITIVE, required=True)
    p.add_argument("--measure-size", type=count(40), required=True, help="input size of the gradient measurement")
    p.add_argument("--layers", required=True)
    p.add_argument("--summary", required=True)
    p.set_defaults(func=_receptive_fields)
