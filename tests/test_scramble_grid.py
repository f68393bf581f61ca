"""The scrambling grid is one fact: Table 1's caption, its report column and the CLI follow the configured grid."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
from test_statistics import predictions_table

from bagnet_repro.evaluation.statistics import SUMMARY_TABLES, summarize
from helpers import PROJECT


def run_table1_notebook(tmp_path, scramble_grid: int, sweep: bool = True) -> str:
    """Summarize two runs scrambled on ``scramble_grid``, run notebooks/table1.ipynb on them; table1.tex.
    ``sweep``: False as with studies.sweep: false (no sweep grid evaluated, no sweep table, no figure)."""
    rng = np.random.default_rng(0)
    models = ("bagnet33", "resnet50")
    conditions = ("val", "test", "scrambled_test") + (("scrambled_g1",) if sweep else ())
    files = dict(predictions_table(tmp_path / f"{m}.tsv", m, 0, rng.random(30) < 0.8, conditions) for m in models)
    stats = {name: str(tmp_path / "stats" / f"{name}.csv") for name in SUMMARY_TABLES if sweep or name != "sweep"}
    summarize(files, stats, scramble_grid=scramble_grid, draws=20)
    history = tmp_path / "history.csv"
    pd.DataFrame({"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_acc": [0.5, 0.7]}).to_csv(history, index=False)
    out = tmp_path / "report"
    parameters = {
        **{f"{name}_file": path for name, path in stats.items()},
        "sweep_file": stats.get("sweep"),  # the rule's None without the sweep
        "scramble_grid": scramble_grid,
        "history_files": {"bagnet33": str(history), "resnet50": str(history)},
        "table1_csv": str(out / "table1.csv"),
        "table1_md": str(out / "table1.md"),
        "table1_tex": str(out / "table1.tex"),
        "mcnemar_csv": str(out / "mcnemar.csv"),
        "mcnemar_md": str(out / "mcnemar.md"),
        "per_class_csv": str(out / "per_class.csv"),
        "curves_figure": [str(out / "curves.pdf"), str(out / "curves.png")],
        "sweep_figure": [str(out / "sweep.pdf"), str(out / "sweep.png")] if sweep else [],
        "confusion_figures": {m: [str(out / f"c_{m}.pdf"), str(out / f"c_{m}.png")] for m in ("bagnet33", "resnet50")},
    }
    subprocess.run(
        [sys.executable, "-m", "papermill", str(PROJECT / "notebooks" / "table1.ipynb"), str(tmp_path / "run.ipynb")]
        + ["-k", "python3", "-y", json.dumps(parameters)],
        check=True,
        capture_output=True,
    )
    return (out / "table1.tex").read_text(), (out / "table1.md").read_text()


def test_a_2x2_grid_says_4_pieces_and_shows_no_report_value_for_the_scrambled_column(tmp_path):
    tex, md = run_table1_notebook(tmp_path, 2)
    caption = " ".join(tex.split())
    assert "4-piece scrambled test accuracy" in caption and "16-piece" not in caption
    assert "the report scrambled 4 x 4, this run 2 x 2" in caption
    scrambled_cells = [line.split("|")[-2] for line in md.splitlines() if line.startswith("| bagnet33")]
    assert scrambled_cells and "report" not in scrambled_cells[0]
    test_cells = [line.split("|")[-3] for line in md.splitlines() if line.startswith("| bagnet33")]
    assert "(report 0.925" in test_cells[0]


def test_without_the_sweep_the_notebook_writes_table1_and_no_sweep_figure(tmp_path):
    tex, _ = run_table1_notebook(tmp_path, 4, sweep=False)
    assert "16-piece scrambled test accuracy" in " ".join(tex.split())
    written = {path.name for path in (tmp_path / "report").iterdir()}
    assert {"table1.csv", "curves.pdf", "c_bagnet33.png"} <= written and not [n for n in written if "sweep" in n]
    with_sweep = tmp_path / "with"
    with_sweep.mkdir()
    run_table1_notebook(with_sweep, 4)
    assert {"sweep.pdf", "sweep.png"} <= {path.name for path in (with_sweep / "report").iterdir()}


def test_no_function_defaults_the_scrambling_grid():
    for path in (PROJECT / "src" / "bagnet_repro").rglob("*.py"):
        text = path.read_text()
        assert "grid: int = 4" not in text and "grid=4" not in text, path
