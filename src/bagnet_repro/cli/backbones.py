"""The vision-toolbox backbones' table: parameters, FLOPs and forward latency beside the published values."""

from __future__ import annotations

import argparse

from ..config.catalog import BACKBONE_NAMES
from .arguments import POSITIVE, add_device_options, start_compute


def _backbone_table(args: argparse.Namespace) -> None:
    from ..complexity.backbone_table import write_backbone_table
    from ..compute.device import resolve_device

    start_compute(args)
    table = write_backbone_table(
        names=args.names,
        csv_path=args.csv,
        md_path=args.md,
        tex_path=args.tex,
        device=resolve_device(args.device),
        batches=args.latency_batches,
        repeats=args.repeats,
    )
    print(table.drop(columns=["device"]).to_string(index=False))


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "backbone-table", help="the vision-toolbox backbones' params/FLOPs table with forward latency, as csv/md/tex"
    )
    p.add_argument(
        "--names",
        nargs="+",
        required=True,
        choices=BACKBONE_NAMES,
        metavar="NAME",
        help="backbone names (bagnet_repro.config.catalog.BACKBONE_NAMES)",
    )
    p.add_argument("--csv", required=True)
    p.add_argument("--md", required=True)
    p.add_argument("--tex", required=True)
    p.add_argument("--latency-batches", type=POSITIVE, nargs="+", required=True)
    p.add_argument("--repeats", type=POSITIVE, required=True, help="timed passes per batch size (median)")
    add_device_options(p)
    p.set_defaults(func=_backbone_table)
