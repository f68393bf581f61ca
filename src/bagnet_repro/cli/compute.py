"""What the run cost: the compute table from the jobs' compute records and Snakemake's benchmark files."""

from __future__ import annotations

import argparse
from pathlib import Path


def _compute_table(args: argparse.Namespace) -> None:
    from ..compute.table import write_compute_table

    rows = write_compute_table(args.results, args.benchmarks, args.csv, args.md, args.tex)
    total = rows[-1]
    print(
        f"{args.csv}: {total['jobs']} jobs, {total['attempts']} attempts "
        f"({total['failed_attempts']} failed or killed), "
        f"{total['wall_s']:.0f} s wall, {total['gpu_hours']:.3f} GPU-hours"
    )


def register(subparsers) -> None:
    p = subparsers.add_parser("compute-table", help="the run's compute per job, stage and model, and in total")
    p.add_argument("--results", type=Path, required=True, help="folder searched for the jobs' *.compute.json")
    p.add_argument("--benchmarks", type=Path, required=True, help="Snakemake's benchmark folder (one per stage)")
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--md", type=Path, required=True)
    p.add_argument("--tex", type=Path, required=True)
    p.set_defaults(func=_compute_table)
