"""Evaluation and statistics: accuracy clean and scrambled per run, then Table 1 over all runs."""

from __future__ import annotations

import argparse
import json

from ..errors import UserError
from .arguments import NON_NEGATIVE, POSITIVE, add_device_options, start_compute


def _evaluate(args: argparse.Namespace) -> None:
    from ..evaluation.evaluate import evaluate

    start_compute(args)
    print(
        json.dumps(
            evaluate(
                checkpoint=args.checkpoint,
                manifest_path=args.manifest,
                metrics_path=args.metrics,
                predictions_path=args.predictions,
                scramble_grid=args.scramble_grid,
                scramble_seed=args.scramble_seed,
                batch_size=args.batch_size,
                device=args.device,
                sweep_grids=tuple(args.sweep_grids),
            )
        )
    )


def _summarize(args: argparse.Namespace) -> None:
    from ..evaluation.statistics import summarize

    files = {}
    for model, seed, path in args.predictions:
        try:
            files[(model, int(seed))] = path
        except ValueError:
            raise UserError(f"--predictions {model} {seed} {path}: the seed must be an integer") from None
    outputs = {
        "table1": args.table1,
        "mcnemar": args.mcnemar,
        "per_class": args.per_class,
        "confusion": args.confusion,
        "sweep": args.sweep,
    }
    summary = summarize(
        files=files,
        outputs=outputs,
        scramble_grid=args.scramble_grid,
        draws=args.bootstrap,
        seed=args.bootstrap_seed,
        reference=args.reference,
        pairing=args.paired_tests,
    )
    print(json.dumps(summary))


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="accuracy on val, test and the g x g scrambled test")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--predictions", required=True)
    p.add_argument("--scramble-grid", type=POSITIVE, required=True, help="Table 1's scrambled test: g x g pieces")
    p.add_argument("--sweep-grids", type=POSITIVE, nargs="*", required=True, help="grids of the scrambling sweep")
    p.add_argument("--scramble-seed", type=NON_NEGATIVE, required=True)
    p.add_argument("--batch-size", type=POSITIVE, required=True)
    add_device_options(p)
    p.set_defaults(func=_evaluate)

    p = subparsers.add_parser("summarize", help="Table 1 with bootstrap CIs, McNemar tests, per-class metrics, sweep")
    p.add_argument(
        "--predictions",
        nargs=3,
        action="append",
        required=True,
        metavar=("MODEL", "SEED", "TSV"),
        help="one evaluated run: its model, seed and predictions file (repeat per run)",
    )
    for name in ("table1", "mcnemar", "per-class", "confusion", "sweep"):
        p.add_argument(f"--{name}", required=True, help=f"output CSV: {name.replace('-', ' ')}")
    p.add_argument(
        "--scramble-grid",
        type=POSITIVE,
        required=True,
        help="the g of the runs' g x g scrambled test (evaluate.scramble_grid): the report's values are for 4 x 4",
    )
    p.add_argument("--bootstrap", type=POSITIVE, default=2000, help="bootstrap draws")
    p.add_argument("--bootstrap-seed", type=NON_NEGATIVE, default=0)
    p.add_argument(
        "--reference", default=None, help="the network the paired tests compare with (default: the first BagNet)"
    )
    p.add_argument(
        "--paired-tests",
        choices=("reference", "all"),
        default="reference",
        help="McNemar tests of the reference against each network, or of every pair",
    )
    p.set_defaults(func=_summarize)
