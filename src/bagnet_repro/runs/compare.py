"""Finished runs side by side: the config keys that differ, Table 1 and the compute total of each, and exact
McNemar tests between runs on the images both were tested on.

A run is a project folder (or a variant's folder) holding ``report/tables/`` and ``results/predictions/``, or a
run archive of ``export-run``, read member by member against its manifest without unpacking anything.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import UserError
from ..evaluation.pairs import holm, mcnemar_exact
from . import manifest as mf
from .members import copy_checked, members, read_manifest

TABLE1 = "report/tables/table1.csv"
COMPUTE = "report/tables/compute.csv"
VALUES = "results/paper/values.json"
PREDICTIONS = re.compile(r"results/predictions/(?P<model>[^/]+)/seed(?P<seed>\d+)\.tsv")
# The conditions of Table 1 that a paired test compares (validation images are the model-selection set).
PAIRED_CONDITIONS = ("test", "scrambled_test")
LEVEL = 0.05
TABLE1_COLUMNS = ("test_acc", "scrambled_test_acc", "val_acc")


@dataclass
class Run:
    """What a comparison reads of one run."""

    label: str
    where: str
    config: dict | None
    table1: pd.DataFrame
    compute_total: dict | None
    predictions: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)

    def models(self) -> list[str]:
        return list(self.table1.model)

    def classes(self) -> list[str]:
        labels: set[str] = set()
        for frame in self.predictions.values():
            labels |= set(frame.label[frame.split == "test"])
        return sorted(labels)


def _read_table(data: bytes, name: str, where: str, sep: str = ",") -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data), sep=sep, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as exc:
        raise UserError(f"{where}: {name} is not a readable table ({exc})") from None


def _wanted(name: str) -> bool:
    return name in (TABLE1, COMPUTE, VALUES) or PREDICTIONS.fullmatch(name) is not None


def _folder_files(folder: Path) -> dict[str, bytes]:
    if not (folder / TABLE1).is_file():
        raise UserError(f"{folder}: not a finished run (no {TABLE1}; run the workflow to its end first)")
    names = [TABLE1, COMPUTE, VALUES]
    names += sorted(p.relative_to(folder).as_posix() for p in (folder / "results/predictions").glob("*/seed*.tsv"))
    return {name: (folder / name).read_bytes() for name in names if (folder / name).is_file() and _wanted(name)}


def _archive_files(archive: Path) -> tuple[dict[str, bytes], dict | None]:
    """The wanted members of a run archive, each checked against its manifest entry (size and sha256)."""
    manifest = read_manifest(archive)
    expected = {entry["path"]: entry for entry in manifest["files"]}
    if TABLE1 not in expected:
        raise UserError(f"{archive}: the archive holds no {TABLE1} (export a finished run)")
    files: dict[str, bytes] = {}
    for name, tar, member in members(archive, expected):
        if not _wanted(name):
            continue
        source = tar.extractfile(member)
        assert source is not None  # members() yields regular files only
        sink = io.BytesIO()
        copy_checked(archive, name, source, expected[name], sink)
        files[name] = sink.getvalue()
    return files, manifest["provenance"].get("config")


def _compute_total(files: dict[str, bytes], where: str) -> dict | None:
    if COMPUTE not in files:
        return None
    table = _read_table(files[COMPUTE], COMPUTE, where)
    total = table[table.level == "total"]
    if total.empty:
        return None
    row = total.iloc[0]
    return {"wall_s": float(row.wall_s), "cpu_s": float(row.cpu_s), "gpu_hours": float(row.gpu_hours or 0.0)}


def read_run(path: str | Path, label: str | None = None) -> Run:
    """One finished run, from its folder or from a run archive (``.tar.gz``)."""
    path = Path(path)
    where = str(path)
    if path.is_dir():
        files, config = _folder_files(path), None  # a folder's config is in its values (below)
    elif path.is_file() and path.name.endswith(".tar.gz"):
        try:
            files, config = _archive_files(path)
        except (OSError, tarfile.TarError) as exc:
            raise UserError(f"{path}: the archive cannot be read ({exc})") from None
    else:
        raise UserError(f"{path}: neither a run folder nor a run archive (.tar.gz)")
    if VALUES in files and config is None:
        config = json.loads(files[VALUES]).get("config")
    predictions = {}
    for name, data in files.items():
        if match := PREDICTIONS.fullmatch(name):
            frame = _read_table(data, name, where, sep="\t")
            predictions[(match["model"], int(match["seed"]))] = frame
    return Run(
        label=label or where,
        where=where,
        config=config,
        table1=_read_table(files[TABLE1], TABLE1, where),
        compute_total=_compute_total(files, where),
        predictions=predictions,
    )


def check_comparable(runs: Sequence[Run]) -> None:
    """Runs of different classes answer different questions: refused, naming the first pair that differs."""
    if len(runs) < 2:
        raise UserError("compare needs two or more runs")
    first = runs[0]
    for other in runs[1:]:
        if first.classes() != other.classes():
            only_first = sorted(set(first.classes()) - set(other.classes()))
            only_other = sorted(set(other.classes()) - set(first.classes()))
            raise UserError(
                f"{first.where} and {other.where} were tested on different classes "
                f"(only in the first: {', '.join(only_first) or 'none'}; only in the second: "
                f"{', '.join(only_other) or 'none'}); compare runs of one data set"
            )
        dataset = _dataset(first.config), _dataset(other.config)
        if None not in dataset and dataset[0] != dataset[1]:
            raise UserError(
                f"{first.where} and {other.where} are runs of different data sets ({dataset[0]} and {dataset[1]})"
            )


def _dataset(config: dict | None) -> str | None:
    """The kind of data set a config names: the demo, the 15-scene images (downloaded or local) or a folder of
    the user's (the folder's path is not compared: the same images lie elsewhere on another machine, and the
    paired test matches images by content)."""
    if not config or "source" not in config.get("data", {}):
        return None
    source = config["data"]["source"]
    return {"url": "the 15-scene data", "local": "the 15-scene data", "demo": "the demo data"}.get(
        source, f"a {source} data set"
    )


def config_differences(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per dotted config key whose value differs between any two runs, one column per run."""
    configs = [run.config for run in runs]
    if any(config is None for config in configs):
        missing = [run.where for run in runs if run.config is None]
        return pd.DataFrame([{"key": "(config not recorded)", **{run.label: "" for run in runs}}]).assign(
            note=f"no resolved config in {', '.join(missing)}"
        )
    keys: set[str] = set()
    for config in configs[1:]:
        keys |= set(mf.config_differences(configs[0], config))
    rows = []
    for key in sorted(keys):
        rows.append({"key": key, **{run.label: _value_at(run.config, key) for run in runs}})
    return pd.DataFrame(rows, columns=["key", *(run.label for run in runs)])


def _value_at(config: dict | None, key: str) -> str:
    value: object = config
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return json.dumps(value) if not isinstance(value, str) else value


def side_by_side(runs: Sequence[Run]) -> pd.DataFrame:
    """Table 1's accuracies (mean and 95% interval) and the compute total of each run and network."""
    rows = []
    for run in runs:
        for record in run.table1.to_dict("records"):
            row = {"run": run.label, "model": record["model"], "seeds": record.get("n_seeds")}
            for column in TABLE1_COLUMNS:
                row[column] = record.get(f"{column}_mean")
                row[f"{column}_ci"] = f"[{record.get(f'{column}_ci_low'):.4f}, {record.get(f'{column}_ci_high'):.4f}]"
            total = run.compute_total or {}
            row["run_wall_min"] = round(total["wall_s"] / 60, 2) if total else None
            rows.append(row)
    return pd.DataFrame(rows)


def _correct_by_image(run: Run, model: str, condition: str) -> dict[int, pd.Series]:
    """seed -> 0/1 per test image, indexed by the image's sha256 (and its rank among identical files), so
    the same images pair up wherever each run's copy of the data lies."""
    found = {}
    for (name, seed), frame in run.predictions.items():
        if name != model:
            continue
        rows = frame[frame.split == condition].sort_values(["sha256", "path"])
        key = rows.sha256 + "#" + rows.groupby("sha256").cumcount().astype(str)
        found[seed] = pd.Series(rows.correct.to_numpy(dtype=int), index=key.to_numpy())
    return found


def _pairing(a: dict[int, pd.Series], b: dict[int, pd.Series]) -> tuple[list[tuple[int, int]], str]:
    """Which seed of one run pairs with which of the other: the same seeds, else the seeds in order."""
    if sorted(a) == sorted(b):
        return [(seed, seed) for seed in sorted(a)], "same seeds"
    if len(a) == len(b):
        return list(zip(sorted(a), sorted(b), strict=True)), "seeds paired in order"
    return [], f"not tested: {len(a)} and {len(b)} seeds"


def paired_tests(runs: Sequence[Run]) -> pd.DataFrame:
    """Exact McNemar between every two runs, per network both trained and per paired condition, on (seed,
    image) pairs of the same test images; p-values adjusted by Holm's method over all tests of the table.
    Pairs that cannot be tested (other images, other seed counts) get a row that says why."""
    rows = []
    for index, first in enumerate(runs):
        for second in runs[index + 1 :]:
            for model in [m for m in first.models() if m in second.models()]:
                for condition in PAIRED_CONDITIONS:
                    rows.append(_paired_row(first, second, model, condition))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    tested = table.p_value.notna()
    table["p_holm"] = None
    table.loc[tested, "p_holm"] = holm(table.loc[tested, "p_value"].tolist())
    table["differs"] = [
        ("yes" if p < LEVEL else "no") if p is not None and not pd.isna(p) else "" for p in table.p_holm
    ]
    return table


def _paired_row(first: Run, second: Run, model: str, condition: str) -> dict:
    row: dict = {"run_a": first.label, "run_b": second.label, "model": model, "condition": condition}
    a, b = _correct_by_image(first, model, condition), _correct_by_image(second, model, condition)
    pairs, how = _pairing(a, b)
    row.update(n_pairs=0, a_only_correct=None, b_only_correct=None, p_value=None, pairing=how)
    if not pairs:
        return row
    a_only = b_only = n = 0
    for seed_a, seed_b in pairs:
        if set(a[seed_a].index) != set(b[seed_b].index):
            row["pairing"] = "not tested: the runs were tested on different images"
            return row
        left, right = a[seed_a], b[seed_b].reindex(a[seed_a].index)
        a_only += int(((left == 1) & (right == 0)).sum())
        b_only += int(((left == 0) & (right == 1)).sum())
        n += len(left)
    row.update(n_pairs=n, a_only_correct=a_only, b_only_correct=b_only, p_value=mcnemar_exact(a_only, b_only))
    return row


@dataclass
class Comparison:
    config: pd.DataFrame
    table1: pd.DataFrame
    tests: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"config": self.config, "table1": self.table1, "mcnemar": self.tests}


def compare_runs(paths: Iterable[str | Path]) -> Comparison:
    """Read and compare finished runs; labels are the paths as given, made unique."""
    names = [str(p) for p in paths]
    if len(set(names)) != len(names):
        raise UserError("compare: a run is named twice")
    runs = [read_run(name, label=name) for name in names]
    check_comparable(runs)
    return Comparison(config_differences(runs), side_by_side(runs), paired_tests(runs))


def describe(comparison: Comparison) -> list[str]:
    """The comparison in plain words, one sentence per tested difference (what a terminal reader needs first)."""
    lines = []
    tested = comparison.tests[comparison.tests.p_value.notna()] if len(comparison.tests) else comparison.tests
    for row in tested.to_dict("records"):
        verdict = "differ" if row["differs"] == "yes" else "do not differ significantly"
        lines.append(
            f"{row['model']} on the {row['condition'].replace('_', ' ')} images: {row['run_a']} and {row['run_b']} "
            f"{verdict} (exact McNemar over {row['n_pairs']} pairs, {row['a_only_correct']} vs "
            f"{row['b_only_correct']} right only in one, Holm-adjusted p = {row['p_holm']:.3g})"
        )
    if len(comparison.tests) and not len(tested):
        lines.append("No paired test applies: " + "; ".join(sorted(set(comparison.tests.pairing))))
    return lines


def write_comparison(comparison: Comparison, folder: str | Path) -> list[Path]:
    """Each table as ``compare_<name>.csv`` and ``.md`` in ``folder`` (made if missing), each file atomic."""
    from ..files.atomic import write_text_atomic

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {folder}: not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in comparison.tables().items():
        csv_path, md_path = folder / f"compare_{name}.csv", folder / f"compare_{name}.md"
        write_text_atomic(csv_path, table.to_csv(index=False))
        write_text_atomic(md_path, (table.to_markdown(index=False) if len(table) else "(none)") + "\n")
        written += [csv_path, md_path]
    return written
