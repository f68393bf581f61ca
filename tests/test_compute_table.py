"""The run's compute table: its totals are the sums of its jobs, every attempt counted once."""

import csv

import pytest

from bagnet_repro.compute.accounting import JobRecord
from bagnet_repro.compute.energy import Counter, EnergyMeter
from bagnet_repro.compute.table import SUMMED, write_compute_table
from bagnet_repro.errors import UserError
from helpers import run_cli

BENCHMARK_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


class StepCounter:
    """A counter that gains ``step`` joules per read: a stand-in hardware counter whose readings are known."""

    def __init__(self, step):
        self.value, self.step = 0.0, step

    def read(self):
        self.value += self.step
        return self.value


def make_run(root, killed_epochs=2):
    """Records of two trainings (one killed once, then resumed) and their evaluations; benchmark files of a
    stage without records and of the train stage (which has records: not counted again)."""
    for model, gpus in (("bagnet9", 0), ("resnet50", 2)):
        result = root / "results" / "models" / model / "seed1" / "best.pt"
        result.parent.mkdir(parents=True)
        meter = EnergyMeter(Counter("stand-in counter", StepCounter(10.0).read))

        def job(result=result, meter=meter, model=model, gpus=gpus):
            kind = "cuda" if gpus else "cpu"
            return JobRecord(result, "train", f"{model}_seed1", f"device: {kind}", kind, gpus, model, 1, meter)

        if model == "resnet50":
            killed = job().__enter__()
            killed.epoch_done(1, killed_epochs)
        with job() as record:
            record.epoch_done(killed_epochs + 1 if model == "resnet50" else 1, 4)
        metrics = root / "results" / "metrics" / model / "seed1.json"
        metrics.parent.mkdir(parents=True)
        no_counter = EnergyMeter(Counter("not measured: no counter"))
        with JobRecord(metrics, "evaluate", f"{model}_seed1", "device: cpu", "cpu", 0, model, 1, no_counter):
            pass
    for stage, name, seconds in (("heatmaps", "heatmaps", "12.5"), ("train", "bagnet9_seed1", "99")):
        path = root / "logs" / "benchmarks" / stage / f"{name}.tsv"
        path.parent.mkdir(parents=True)
        path.write_text(BENCHMARK_HEADER + f"{seconds}\t0:00:12\t512.0\t1\t1\t1\t0\t0\t50\t20.25\n")


def read_table(root):
    tables = root / "report" / "tables"
    write_compute_table(
        root / "results",
        root / "logs" / "benchmarks",
        tables / "compute.csv",
        tables / "compute.md",
        tables / "compute.tex",
    )
    with open(tables / "compute.csv") as handle:
        return list(csv.DictReader(handle))


def test_totals_are_the_sums_of_the_jobs(tmp_path):
    make_run(tmp_path)
    rows = read_table(tmp_path)
    jobs = [row for row in rows if row["level"] == "job"]
    assert sorted((row["stage"], row["name"]) for row in jobs) == [
        ("evaluate", "bagnet9_seed1"),
        ("evaluate", "resnet50_seed1"),
        ("heatmaps", "heatmaps"),  # from its benchmark; train's benchmark is not counted beside its records
        ("train", "bagnet9_seed1"),
        ("train", "resnet50_seed1"),
    ]
    (total,) = [row for row in rows if row["level"] == "total"]
    for column in SUMMED:
        assert float(total[column]) == pytest.approx(sum(float(row[column]) for row in jobs)), column
    for level in ("stage", "model"):
        summaries = [row for row in rows if row["level"] == level]
        for column in ("wall_s", "attempts", "gpu_hours"):
            grouped = sum(float(row[column]) for row in summaries)
            named = [row for row in jobs if row[level]]
            assert grouped == pytest.approx(sum(float(row[column]) for row in named)), (level, column)
    resnet = next(row for row in jobs if row["name"] == "resnet50_seed1" and row["stage"] == "train")
    assert (resnet["attempts"], resnet["failed_attempts"], resnet["epochs_failed"]) == ("2", "1", "2")
    assert float(resnet["gpu_hours"]) == pytest.approx(2 * float(resnet["wall_s"]) / 3600, abs=1e-9)
    # Energy: measured for the trainings only (each read gains 10 J), so the total says 2 of 5 jobs.
    assert (total["energy_jobs_measured"], total["jobs"]) == ("2", "5")
    assert float(total["energy_j"]) == pytest.approx(sum(float(row["energy_j"] or 0) for row in jobs))
    markdown = (tmp_path / "report" / "tables" / "compute.md").read_text()
    assert "(2 of 5 jobs)" in markdown and "1 failed or killed, 2 epochs" in markdown
    assert "\\toprule" in (tmp_path / "report" / "tables" / "compute.tex").read_text()


def test_no_jobs_and_foreign_records_stop_with_one_line(tmp_path):
    with pytest.raises(UserError, match="no computing job has run"):
        read_table(tmp_path)
    bad = tmp_path / "results" / "x.compute.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"stage": "train", "job": "x", "attempts": []}')
    result = run_cli(
        *("compute-table", "--results", str(tmp_path / "results"), "--benchmarks", str(tmp_path / "none")),
        *("--csv", str(tmp_path / "c.csv"), "--md", str(tmp_path / "c.md"), "--tex", str(tmp_path / "c.tex")),
    )
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        f"error: {bad} is not a valid compute record: field 'attempts' is [], should be non-empty; delete it or "
        "rerun its job"
    ]
    assert not (tmp_path / "c.csv").exists()


def test_a_benchmarks_model_is_a_catalog_name_and_the_numerics_are_tabled(tmp_path):
    from bagnet_repro.compute.table import model_of

    assert [model_of(name) for name in ("bagnet9_seed1", "trained_cbam_resnet50", "bagnet9_v2", "123_seed0")] == [
        "bagnet9",
        "cbam_resnet50",
        "bagnet9_v2",
        "",  # a feature-amount variant is no network of the catalog
    ]
    make_run(tmp_path)
    read_table(tmp_path)
    markdown = (tmp_path / "report" / "tables" / "compute.md").read_text()
    assert "| model | training numerics | evaluation numerics |" in markdown
    assert "| bagnet9 | not recorded | not recorded |" in markdown  # the stand-in jobs set no numerics


def _table_cli(tmp_path):
    return run_cli(
        *("compute-table", "--results", str(tmp_path / "results"), "--benchmarks", str(tmp_path / "logs/benchmarks")),
        *("--csv", str(tmp_path / "c.csv"), "--md", str(tmp_path / "c.md"), "--tex", str(tmp_path / "c.tex")),
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda a: a.pop("wall_s"), "field 'attempts.0.wall_s' is missing"),
        (lambda a: a.update(wall_s="1 min"), "field 'attempts.0.wall_s' is '1 min', not a number >= 0"),
        (lambda a: a.update(wall_s=-3600.0), "field 'attempts.0.wall_s' is -3600.0, below 0"),
        (lambda a: a.update(cpu_s=None), "field 'attempts.0.cpu_s' is None, not a number >= 0"),
        (lambda a: a.update(energy_j=-1), "field 'attempts.0.energy_j' is -1, not a number >= 0 or a null"),
    ],
)
def test_a_compute_record_is_checked_field_by_field_when_read(tmp_path, change, why):
    """A missing, non-numeric or negative time is one line naming the file and the field, and no table (so no
    PDF) is made from it: no traceback, no negative train time in the report."""
    import json

    make_run(tmp_path)
    bad = tmp_path / "results/models/bagnet9/seed1/best.compute.json"
    record = json.loads(bad.read_text())
    change(record["attempts"][0])
    bad.write_text(json.dumps(record))
    result = _table_cli(tmp_path)
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        f"error: {bad} is not a valid compute record: {why}; delete it or rerun its job"
    ], result.stderr
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize("seconds", ["-60", "soon"])
def test_a_benchmark_file_with_a_negative_or_non_numeric_time_is_one_line(tmp_path, seconds):
    make_run(tmp_path)
    bad = tmp_path / "logs/benchmarks/heatmaps/heatmaps.tsv"
    bad.write_text(BENCHMARK_HEADER + f"{seconds}\t0:00:12\t512.0\t1\t1\t1\t0\t0\t50\t20.25\n")
    result = _table_cli(tmp_path)
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        f"error: {bad}: column 's' is {seconds!r}, not a time >= 0 in seconds; delete it or rerun its job"
    ], result.stderr
    assert not (tmp_path / "c.csv").exists()
