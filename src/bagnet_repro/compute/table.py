"""The run's compute table: one row per computing job, then per stage, per model and in total.

Jobs come from the compute records beside their results (``compute/accounting.py``: every attempt, killed and
failed ones apart) and, for stages that keep none, from Snakemake's benchmark files (one attempt, the last; no
device memory, energy or numerics). A stage with records takes none of its benchmarks, so no job counts twice.
Energy is summed over the attempts a hardware counter measured; the table says how many jobs that was.
Torch-free: it reads files only.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..config.catalog import MODEL_NAMES
from ..errors import UserError
from ..files.atomic import write_text_atomic
from .accounting import RECORD_SUFFIX, numerics_summary, read_checked_record

COLUMNS = (
    "level",
    "name",
    "stage",
    "model",
    "jobs",
    "attempts",
    "failed_attempts",
    "epochs_failed",
    "wall_s",
    "wall_s_failed",
    "cpu_s",
    "gpu_hours",
    "energy_j",
    "energy_jobs_measured",
    "peak_host_mb",
    "peak_device_mb",
    "device",
    "numerics",
    "source",
)
SUMMED = ("jobs", "attempts", "failed_attempts", "epochs_failed", "wall_s", "wall_s_failed", "cpu_s", "gpu_hours")
PEAKS = ("peak_host_mb", "peak_device_mb")
FAILED = ("killed", "failed")
NOT_MEASURED = "not measured"


def record_job(record: dict) -> dict:
    """A job row from its compute record: all attempts summed, the failed and killed ones also apart."""
    attempts = record["attempts"]
    failed = [a for a in attempts if a["status"] in FAILED]
    measured = [a["energy_j"] for a in attempts if a.get("energy_j") is not None]
    last = attempts[-1]
    numerics = next((a["numerics"] for a in reversed(attempts) if a.get("numerics")), None)
    device_peaks = [a["peak_device_mb"] for a in attempts if a.get("peak_device_mb") is not None]
    return {
        "level": "job",
        "name": record["job"],
        "stage": record["stage"],
        "model": record.get("model") or "",
        "jobs": 1,
        "attempts": len(attempts),
        "failed_attempts": len(failed),
        "epochs_failed": sum(a.get("epochs", 0) for a in failed),
        "wall_s": round(sum(a["wall_s"] for a in attempts), 3),
        "wall_s_failed": round(sum(a["wall_s"] for a in failed), 3),
        "cpu_s": round(sum(a["cpu_s"] for a in attempts), 3),
        "gpu_hours": round(sum(a["wall_s"] * a["gpus"] for a in attempts) / 3600, 9),
        "energy_j": round(sum(measured), 3) if len(measured) == len(attempts) else None,
        "energy_jobs_measured": int(len(measured) == len(attempts)),
        "peak_host_mb": max(a["peak_host_mb"] for a in attempts),
        "peak_device_mb": max(device_peaks) if device_peaks else None,
        "device": last["device"],
        "numerics": numerics_summary(numerics),
        "source": f"compute record; last attempt {last['status']}; energy: {last['energy_method']}",
    }


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def model_of(job: str) -> str:
    """The network a benchmark file's job name holds (``bagnet9_seed1``, ``trained_cbam_resnet50``), or ''
    (a feature-amount variant, the heatmaps of all BagNets): the longest catalog name that begins or ends it."""
    for model in sorted(MODEL_NAMES, key=len, reverse=True):
        if job == model or job.startswith(f"{model}_") or job.endswith(f"_{model}"):
            return model
    return ""


def benchmark_job(path: Path, stage: str) -> dict:
    """A job row from a Snakemake benchmark file (its last line: the last run of that job)."""
    rows = list(csv.DictReader(io.StringIO(path.read_text()), delimiter="\t"))
    if not rows or "s" not in rows[-1]:
        raise UserError(f"{path} is not a Snakemake benchmark file (no 's' column)")
    row = rows[-1]
    wall = _number(row["s"])
    if wall is None or wall < 0:
        raise UserError(f"{path}: column 's' is {row['s']!r}, not a time >= 0 in seconds; delete it or rerun its job")
    for column in ("cpu_time", "max_rss"):
        value = _number(row.get(column) or "")
        if value is not None and value < 0:
            raise UserError(f"{path}: column {column!r} is {value}, below 0; delete it or rerun its job")
    name = path.stem
    return {
        "level": "job",
        "name": name,
        "stage": stage,
        "model": model_of(name),
        "jobs": 1,
        "attempts": 1,
        "failed_attempts": 0,
        "epochs_failed": 0,
        "wall_s": round(wall, 3),
        "wall_s_failed": 0.0,
        "cpu_s": round(_number(row.get("cpu_time", "")) or 0.0, 3),
        "gpu_hours": 0.0,
        "energy_j": None,
        "energy_jobs_measured": 0,
        "peak_host_mb": _number(row.get("max_rss", "")),
        "peak_device_mb": None,
        "device": "not recorded",
        "numerics": "not recorded",
        "source": "Snakemake benchmark (last run only; GPUs, device memory and energy not recorded)",
    }


def collect_jobs(results: Path, benchmarks: Path | None) -> list[dict]:
    """Every job with a compute record under ``results``, then the benchmarks of stages without records."""
    jobs = []
    for path in sorted(results.rglob(f"*{RECORD_SUFFIX}")):
        jobs.append(record_job(read_checked_record(path)))
    recorded_stages = {job["stage"] for job in jobs}
    if benchmarks is not None and benchmarks.is_dir():
        for path in sorted(benchmarks.rglob("*.tsv")):
            stage = path.relative_to(benchmarks).parts[0]
            if stage not in recorded_stages:
                jobs.append(benchmark_job(path, stage))
    return sorted(jobs, key=lambda job: (job["stage"], job["name"]))


def summary(level: str, name: str, jobs: list[dict]) -> dict:
    """The sums (and peaks) of ``jobs`` as one row; energy sums the measured jobs and counts them."""
    row: dict[str, object] = {column: "" for column in COLUMNS}
    row.update(level=level, name=name)
    for column in SUMMED:
        row[column] = round(sum(job[column] for job in jobs), 9 if column == "gpu_hours" else 3)
    measured = [job["energy_j"] for job in jobs if job["energy_j"] is not None]
    row["energy_j"] = round(sum(measured), 3) if measured else None
    row["energy_jobs_measured"] = len(measured)
    for column in PEAKS:
        peaks = [job[column] for job in jobs if job[column] is not None]
        row[column] = max(peaks) if peaks else None
    row["stage"] = name if level == "stage" else ""
    row["model"] = name if level == "model" else ""
    devices = sorted({job["device"] for job in jobs})
    row["device"] = "; ".join(devices)
    return row


def compute_rows(jobs: list[dict]) -> list[dict]:
    """The jobs, then one row per stage, per model (jobs that name one) and the total."""
    rows = list(jobs)
    for stage in sorted({job["stage"] for job in jobs}):
        rows.append(summary("stage", stage, [job for job in jobs if job["stage"] == stage]))
    for model in sorted({job["model"] for job in jobs if job["model"]}):
        rows.append(summary("model", model, [job for job in jobs if job["model"] == model]))
    rows.append(summary("total", "all jobs", jobs))
    return rows


def _cell(value) -> str:
    return "" if value is None else str(value)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def _energy(row: dict) -> str:
    if row["energy_j"] is None:
        return NOT_MEASURED
    partial = (
        "" if row["energy_jobs_measured"] == row["jobs"] else f" ({row['energy_jobs_measured']} of {row['jobs']} jobs)"
    )
    return f"{row['energy_j'] / 3.6e6:.3f} kWh{partial}"


def _memory(value) -> str:
    return NOT_MEASURED if value is None else f"{value / 1024:.2f} GiB"


def display_rows(rows: list[dict]) -> list[list[str]]:
    """The summary rows as the Markdown and LaTeX tables print them."""
    shown = []
    for row in rows:
        if row["level"] == "job":
            continue
        failed = (
            f" ({row['failed_attempts']} failed or killed, {row['epochs_failed']} epochs)"
            if row["failed_attempts"]
            else ""
        )
        shown.append(
            [
                row["level"],
                row["name"],
                str(row["jobs"]),
                f"{row['attempts']}{failed}",
                _hours(row["wall_s"]),
                f"{row['gpu_hours']:.3f}",
                f"{row['cpu_s'] / 3600:.3f}",
                _energy(row),
                _memory(row["peak_host_mb"]),
                _memory(row["peak_device_mb"]),
            ]
        )
    return shown


HEADER = ("level", "name", "jobs", "attempts", "wall", "GPU-hours", "CPU-hours", "energy", "peak host", "peak device")


NUMERICS_HEADER = ("model", "training numerics", "evaluation numerics")


def numerics_rows(rows: list[dict]) -> list[list[str]]:
    """Per model: the numerics of its train and evaluate jobs (distinct ones joined), as the tables print them."""
    by_model: dict[str, dict[str, set]] = {}
    for row in rows:
        if row["level"] == "job" and row["model"] and row["stage"] in ("train", "evaluate"):
            by_model.setdefault(row["model"], {}).setdefault(row["stage"], set()).add(row["numerics"])
    return [
        [model, *("; ".join(sorted(stages.get(stage, {"not recorded"}))) for stage in ("train", "evaluate"))]
        for model, stages in sorted(by_model.items())
    ]


def _markdown_table(header, body) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)] + [
        "| " + " | ".join(c) + " |" for c in body
    ]


def markdown(rows: list[dict]) -> str:
    lines = _markdown_table(HEADER, display_rows(rows))
    numerics = numerics_rows(rows)
    if numerics:
        lines += ["", *_markdown_table(NUMERICS_HEADER, numerics)]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def _latex_table(columns: str, header, body) -> list[str]:
    lines = [r"\begin{tabular}{" + columns + "}", r"\toprule", " & ".join(header) + r" \\", r"\midrule"]
    lines += [" & ".join(_escape(cell) for cell in cells) + r" \\" for cells in body]
    return lines + [r"\bottomrule", r"\end{tabular}"]


def latex(rows: list[dict]) -> str:
    lines = _latex_table("ll" + "r" * (len(HEADER) - 2), HEADER, display_rows(rows))
    numerics = numerics_rows(rows)
    if numerics:
        lines += ["", *_latex_table("lll", NUMERICS_HEADER, numerics)]
    return "\n".join(lines) + "\n"


def write_compute_table(
    results: Path, benchmarks: Path | None, csv_path: Path, md_path: Path, tex_path: Path
) -> list[dict]:
    """Write the table as CSV (every job and summary), Markdown and LaTeX (the summaries); returns its rows."""
    jobs = collect_jobs(Path(results), Path(benchmarks) if benchmarks else None)
    if not jobs:
        raise UserError(f"no compute records under {results} and no benchmark files: no computing job has run")
    rows = compute_rows(jobs)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({column: _cell(row[column]) for column in COLUMNS} for row in rows)
    write_text_atomic(csv_path, buffer.getvalue())
    write_text_atomic(md_path, markdown(rows))
    write_text_atomic(tex_path, latex(rows))
    return rows
