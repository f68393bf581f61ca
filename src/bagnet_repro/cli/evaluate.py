"""Evaluation and statistics: accuracy clean and scrambled per run, then Table 1 over all runs."""

from __future__ import annotations

import argparse
import json

from ..errors import UserError
from .arguments import NON_NEGATIVE, POSITIVE, at_least, start_job
from .stages import Stage, register_listing


def evaluate(
    checkpoint: str,
    manifest: str,
    metrics: str,
    predictions: str,
    scramble_grid: int,
    sweep_grids: list[int],
    scramble_seed: int,
    batch_size: int,
    device: str,
    threads: int,
    gpus: int = 0,
) -> None:
    """Accuracy on val, test and the g x g scrambled test.

    Args:
        checkpoint: the trained model (train's best.pt)
        manifest: the split's manifest.tsv
        metrics: output JSON: accuracy per split, clean and scrambled
        predictions: output TSV: every test image's prediction, clean and scrambled
        scramble_grid: Table 1's scrambled test: g x g pieces
        sweep_grids: grids of the scrambling sweep
        scramble_seed: seed of the pieces' shuffle
        batch_size: images per forward pass
        device: auto, cpu or cuda[:N]
        threads: CPU threads for torch
        gpus: GPUs the rule gave this job: unusable CUDA then stops it at once (docs/environments.md)
    """
    from ..evaluation.evaluate import evaluate as evaluate_run

    at_least("--scramble-grid", scramble_grid, 1)
    for grid in sweep_grids:
        at_least("--sweep-grids", grid, 1)
    at_least("--scramble-seed", scramble_seed, 0)
    at_least("--batch-size", batch_size, 1)
    start_job(device, threads, gpus)
    print(
        json.dumps(
            evaluate_run(
                checkpoint=checkpoint,
                manifest_path=manifest,
                metrics_path=metrics,
                predictions_path=predictions,
                scramble_grid=scramble_grid,
                scramble_seed=scramble_seed,
                batch_size=batch_size,
                device=device,
                sweep_grids=tuple(sweep_grids),
            )
        )
    )


STAGES = (Stage("evaluate", evaluate),)


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
    register_listing(subparsers, STAGES)

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
