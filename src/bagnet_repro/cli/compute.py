"""What the run cost: the compute table from the jobs' compute records and Snakemake's benchmark files."""

from __future__ import annotations

from pathlib import Path

from .stages import Stage


def compute_table(results: Path, benchmarks: Path, csv: Path, md: Path, tex: Path) -> None:
    """The run's compute per job, stage and model, and in total.

    Args:
        results: folder searched for the jobs' *.compute.json
        benchmarks: Snakemake's benchmark folder (one per stage)
        csv: output table, CSV
        md: output table, Markdown
        tex: output table, LaTeX
    """
    from ..compute.table import write_compute_table

    rows = write_compute_table(results, benchmarks, csv, md, tex)
    total = rows[-1]
    print(
        f"{csv}: {total['jobs']} jobs, {total['attempts']} attempts "
        f"({total['failed_attempts']} failed or killed), "
        f"{total['wall_s']:.0f} s wall, {total['gpu_hours']:.3f} GPU-hours"
    )


STAGES = (Stage("compute-table", compute_table),)
