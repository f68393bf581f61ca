"""The report's Compute section: its values from the run's compute table (``report/tables/compute.csv``)."""

from __future__ import annotations

import pandas as pd

NOT_MEASURED = "not measured"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _energy(row) -> str:
    if pd.isna(row.energy_j):
        return NOT_MEASURED
    kwh = f"{row.energy_j / 3.6e6:.3f} kWh"
    return kwh if row.energy_jobs_measured == row.jobs else f"{kwh} ({row.energy_jobs_measured} of {row.jobs} jobs)"


def _memory(value) -> str:
    return NOT_MEASURED if pd.isna(value) else f"{value / 1024:.2f} GiB"


def _summary(row) -> dict:
    return {
        "name": str(row["name"]),
        "jobs": str(int(row.jobs)),
        "attempts": str(int(row.attempts)),
        "failed_attempts": str(int(row.failed_attempts)),
        "epochs_failed": str(int(row.epochs_failed)),
        "wall": _duration(row.wall_s),
        "wall_failed": _duration(row.wall_s_failed),
        "gpu_hours": f"{row.gpu_hours:.3f}",
        "cpu_hours": f"{row.cpu_s / 3600:.3f}",
        "energy": _energy(row),
        "peak_host": _memory(row.peak_host_mb),
        "peak_device": _memory(row.peak_device_mb),
    }


def compute_values(table: str, longest: int = 3) -> dict:
    """Totals, per stage, the longest jobs, the devices and each model's training and evaluation numerics."""
    rows = pd.read_csv(table, keep_default_na=True)
    jobs = rows[rows.level == "job"]
    numerics: dict[str, dict] = {}
    for job in jobs[jobs.stage.isin(["train", "evaluate"])].itertuples():
        numerics.setdefault(str(job.model), {}).setdefault(job.stage, set()).add(str(job.numerics))
    energy_methods = sorted({source.split("energy: ", 1)[1] for source in jobs.source if "energy: " in source})
    return {
        "total": _summary(rows[rows.level == "total"].iloc[0]),
        "stages": [_summary(row) for _, row in rows[rows.level == "stage"].iterrows()],
        "longest": [
            {"stage": str(row.stage), "name": str(row["name"]), "wall": _duration(row.wall_s)}
            for _, row in jobs.sort_values("wall_s", ascending=False).head(longest).iterrows()
        ],
        "devices": sorted(set(jobs.device.astype(str)) - {"not recorded"}),
        "energy_methods": energy_methods,
        "numerics": {
            model: {stage: "; ".join(sorted(values)) for stage, values in stages.items()}
            for model, stages in sorted(numerics.items())
        },
        "unrecorded_stages": sorted(set(jobs[jobs.device == "not recorded"].stage)),
    }
