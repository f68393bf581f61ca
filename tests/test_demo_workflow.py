"""End to end: the demo config through every rule to every table, figure and the report's PDF, then nothing left
to do; the PDF read as a reader would; one changed result rebuilds only what depends on it."""

import csv
import json
import re

import pytest
from report_zip import check_report_zip

from helpers import PROJECT, run_snakemake

pytestmark = pytest.mark.slow
DEMO = str(PROJECT / "configs" / "demo.yaml")


def test_demo_workflow_end_to_end(finished_demo):
    tmp_path = finished_demo  # the run's folder (tests/conftest.py runs the demo once per session)

    with open(tmp_path / "report/tables/table1.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    models = [
        "bagnet9",
        "bagnet17",
        "bagnet33",
        "resnet50",
        "densenet121",
        "densenet169",
        "cbam_resnet50",
        "vovnet19_slim",
    ]
    assert [r["model"] for r in rows] == models
    for row in rows:
        for metric in ("val_acc", "test_acc", "scrambled_test_acc"):
            low, mean, high = (float(row[f"{metric}_{part}"]) for part in ("ci_low", "mean", "ci_high"))
            assert 0.0 <= low <= mean <= high <= 1.0
        assert row["n_seeds"] == "1" and row["n_test"] == "150" and row["n_val"] == "60"
        if row["test_acc_report"]:  # the report has no value for the vision-toolbox backbones
            assert float(row["test_acc_diff"]) == pytest.approx(
                float(row["test_acc_mean"]) - float(row["test_acc_report"]), abs=1e-4
            )
        else:
            assert row["test_acc_diff"] == ""
    # Training learned something: the best model is far above chance (1/15) on the test set.
    assert max(float(r["test_acc_mean"]) for r in rows) > 0.5
    assert "| Model" in (tmp_path / "report/tables/table1.md").read_text()
    assert "\\begin{table}" in (tmp_path / "report/tables/table1.tex").read_text()
    with open(tmp_path / "report/tables/mcnemar.csv", newline="") as handle:
        tests = list(csv.DictReader(handle))
    assert {(t["model_b"], t["condition"]) for t in tests} == {
        (m, c) for m in models if m != "bagnet33" for c in ("test", "scrambled_test")
    }
    assert all(0.0 <= float(t["p_value"]) <= 1.0 and t["n_pairs"] == "150" for t in tests)
    figures = ["training_curves", "scramble_sweep"] + [f"confusion_{m}" for m in models]
    for name in figures + ["weight_distribution"]:
        assert (tmp_path / f"report/figures/{name}.pdf").read_bytes().startswith(b"%PDF"), name
    with open(tmp_path / "results/statistics/sweep.csv", newline="") as handle:
        assert sorted({int(r["pieces"]) for r in csv.DictReader(handle)}) == [1, 4, 16, 64]
    with open(tmp_path / "report/tables/precision.csv", newline="") as handle:
        modes = list(csv.DictReader(handle))
    assert {m["mode"] for m in modes} == {"fp32", "tf32", "bf16", "fp16"} and len(modes) == 4 * len(models)
    assert all(m["n_images"] == "15" for m in modes)
    assert (tmp_path / "report/tables/dead_layers.csv").is_file()
    assert (tmp_path / "results/notebooks/table1.ipynb").is_file()
    for model in ("bagnet33", "resnet50"):
        log = (tmp_path / f"logs/train/{model}_seed0.log").read_text()
        assert f"{model} epoch 2/2" in log

    # The feature-amount study in miniature: its table (two variants and the uniform VGG), figures and page.
    with open(tmp_path / "report/tables/feature_amounts.tsv", newline="") as handle:
        study = list(csv.DictReader(handle, delimiter="\t"))
    assert [r["model_id"] for r in study] == ["123", "140", "uniform"]
    # It learns: every row well above chance (1/15) on the demo textures.
    assert all(r["depth"] == "10" and r["epochs_run"] == "2" and float(r["best_val_acc"]) >= 0.2 for r in study)
    for name in ("accuracy", "profiles", "parameters"):
        assert (tmp_path / f"report/figures/feature_amounts_{name}.pdf").read_bytes().startswith(b"%PDF"), name
    assert "plotly" in (tmp_path / "report/figures/feature_amounts.html").read_text()

    # The vision-toolbox backbones' table for the demo's three backbones, with latency named by the machine.
    with open(tmp_path / "report/tables/backbones.csv", newline="") as handle:
        backbones = {r["backbone"]: r for r in csv.DictReader(handle)}
    assert list(backbones) == ["darknet19", "vovnet19_slim", "mobilenet_v3_small"]
    small = backbones["mobilenet_v3_small"]
    assert (small["params_m"], small["seed_params_m"], small["seed_gflops"]) == ("0.93", "0.93", "0.12")
    assert all(float(r["latency_ms_batch1"]) > 0 and "threads" in r["device"] for r in backbones.values())

    with open(tmp_path / "report/tables/receptive_fields.csv", newline="") as handle:
        fields = {r["model"]: r for r in csv.DictReader(handle)}
    assert [fields[m]["measured_rf"] for m in ("bagnet9", "bagnet17", "bagnet33")] == ["9", "17", "33"]
    assert fields["resnet50_torchvision"]["theoretical_rf"] == "427" and fields["resnet50"]["theoretical_rf"] == "483"
    assert fields["densenet121"]["theoretical_rf"] == "2071" and fields["densenet169"]["theoretical_rf"] == "3351"
    with open(tmp_path / "report/tables/figure1.csv", newline="") as handle:
        bagnet33 = [r for r in csv.DictReader(handle) if r["model"] == "bagnet33"]
    assert [(r["input_size"], r["output_size"], r["receptive_field"]) for r in bagnet33] == [
        ("224", "222", "3"),
        ("222", "110", "5"),
        ("110", "54", "9"),
        ("54", "26", "17"),
        ("26", "24", "33"),
    ]

    import numpy as np

    heatmaps = np.load(tmp_path / "results/heatmaps/heatmaps.npz")
    assert list(heatmaps["models"]) == ["bagnet9", "bagnet17", "bagnet33"]
    # Up to three images, chosen among those the main BagNet gets right (fewer when it is near chance).
    drawn = heatmaps["bagnet33__heatmaps"].shape
    assert 1 <= drawn[0] <= 3 and drawn[1:] == (15, 48, 48)
    assert heatmaps["bagnet33__scrambled"].shape == (1, 15, 48, 48)
    for name in ("heatmaps_classes", "heatmaps_models", "heatmaps_scrambled"):
        assert (tmp_path / f"report/figures/{name}.pdf").read_bytes().startswith(b"%PDF")
        assert (tmp_path / f"report/figures/{name}.png").read_bytes().startswith(b"\x89PNG")

    again = run_snakemake(tmp_path, "-n", "--configfile", DEMO)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr

    check_paper_like_a_reader(tmp_path)
    check_one_changed_result_rebuilds_only_what_depends_on_it(tmp_path)
    # Snakemake's report as the workflow catalog asks for it: a zip with every table and figure and its caption.
    report = run_snakemake(tmp_path, "--report", str(tmp_path / "report.zip"), "--configfile", DEMO)
    assert report.returncode == 0, report.stderr[-3000:]
    categories = ["Table 1", "Training", "Heatmaps", "Precision", "Figure 1", "Feature amounts", "Backbones"]
    check_report_zip(tmp_path, categories)


def pdf_words(path):
    import pymupdf

    with pymupdf.open(path) as document:
        return [word for page in document for word in page.get_text("words")], document.page_count


def table_rows(page_words, first_column, above, below=0.0):
    """The words right of each ``first_column`` word on the same line (vertical centres within 3 pt), for the
    table between the y coordinates ``below`` (its header) and ``above`` (its caption)."""
    rows = {}
    for _x0, y0, x1, y1, text, *_ in page_words:
        if text in first_column and below < y0 and y1 < above and text not in rows:
            centre = (y0 + y1) / 2
            line = sorted((w[0], w[4]) for w in page_words if abs((w[1] + w[3]) / 2 - centre) < 3 and w[0] > x1)
            rows[text] = " ".join(word for _, word in line)
    return rows


def check_paper_like_a_reader(workdir, min_figures=7):
    """Render every page, read the text, compare Table 1 with its CSV, and check the figures stayed vector
    (``min_figures``: the figure files the run's config makes, at least)."""
    import re

    import pymupdf

    paper = workdir / "report/paper.pdf"
    values = json.loads((workdir / "results/paper/values.json").read_text())
    with pymupdf.open(paper) as document:
        assert document.page_count >= 4
        pages = [page.get_text("words") for page in document]
        text = "\n".join(page.get_text() for page in document)
        raster_in_paper = sum(len(page.get_images()) for page in document)
        for index, page in enumerate(document):
            pixels = page.get_pixmap(dpi=60)
            pixels.save(workdir / f"page{index + 1}.png")
            assert len(set(pixels.samples[::97])) > 2, f"page {index + 1} renders blank"
    # Table 1: every number of the CSV, at the three decimals printed, in its model's row and order.
    with open(workdir / "report/tables/table1.csv", newline="") as handle:
        expected = list(csv.DictReader(handle))
    page = next(words for words in pages if "Validation" in {word[4] for word in words})  # Table 1's header
    header = min(word[1] for word in page if word[4] == "Validation")
    caption = min(word[1] for word in page if word[4] == "bootstrap" and word[1] > header)
    printed = table_rows(page, {row["model"] for row in expected}, caption, header)
    assert list(printed) == [row["model"] for row in expected]
    for row in expected:
        numbers = [row["n_seeds"]]
        for metric in ("val_acc", "test_acc", "scrambled_test_acc"):
            numbers += [f"{float(row[f'{metric}_{part}']):.3f}" for part in ("mean", "ci_low", "ci_high")]
            numbers += [f"{float(row[f'{metric}_report']):.3f}"] if row[f"{metric}_report"] else []
        assert re.findall(r"\d+(?:\.\d+)?", printed[row["model"]]) == numbers, row["model"]
    # Figures: embedded from the notebooks' PDFs as vectors, so their own words are text in the paper and
    # the only raster images are those inside the figure files (the heatmaps' pixels).
    paper_words = {word[4] for words in pages for word in words}
    figures = [workdir / path for path in values["files"].values() if path.endswith(".pdf")]
    assert len(figures) >= min_figures
    raster_in_figures = 0
    for figure in figures:
        with pymupdf.open(figure) as source:
            words = {word[4] for page in source for word in page.get_text("words")}
            raster_in_figures += sum(len(page.get_images()) for page in source)
        assert words and words <= paper_words, figure.name
    assert raster_in_paper == raster_in_figures
    # No placeholder or missing value reached the text; provenance is on the first page.
    for placeholder in (
        r"\bNone\b",
        r"\bnan\b",
        r"\bNaN\b",
        r"\?\?",
        r"\bTODO\b",
        r"\bunknown\b",
        r"not installed",
        r"[{}]",
        r"\bnull\b",
        r"\bTrue\b",
        r"\bFalse\b",
    ):
        assert not re.search(placeholder, text), placeholder
    first_page = " ".join(word[4] for word in pages[0])
    assert values["provenance"]["commit"].split()[0] in first_page and "torch" in first_page
    # Sources by authors and works, never the pipeline's own names for them; the scrambling grid from the config.
    flat = " ".join(text.split())
    assert not re.search(r"\bseed 00\d", flat, re.IGNORECASE)
    # The references hold the works the text cites: the studies' sources only when the run has those studies.
    sources = ["Brendel and M. Bethge", "Approximating CNNs with Bag-of-local-Features", "References"]
    studies = {
        "feature_amounts": ["M. Mundt", "Rethinking layer-wise feature amounts"],
        "backbones": ["T. Tran", "vision-toolbox"],
    }
    for study, works in studies.items():
        if study in values:
            sources += works
    for source in sources:
        assert source in flat, source
    assert f"cut into {values['settings']['scramble_pieces']} shuffled pieces" in flat


def check_one_changed_result_rebuilds_only_what_depends_on_it(workdir):
    predictions = workdir / "results/predictions/resnet50/seed0.tsv"
    lines = predictions.read_text().splitlines()
    header = lines[0].split("\t")
    split, label, prediction, correct = (header.index(name) for name in ("split", "label", "prediction", "correct"))
    for index, line in enumerate(lines[1:], 1):
        cells = line.split("\t")
        if cells[split] == "test":  # the first test image: right becomes wrong, or wrong becomes right
            right = cells[correct] == "1"
            cells[prediction] = ("Coast" if cells[label] != "Coast" else "Forest") if right else cells[label]
            cells[correct] = "0" if right else "1"
            lines[index] = "\t".join(cells)
            break
    predictions.write_text("\n".join(lines) + "\n")
    before = (workdir / "report/tables/table1.csv").read_text()
    paper_time = (workdir / "report/paper.pdf").stat().st_mtime
    result = run_snakemake(workdir, "--cores", "2", "--configfile", DEMO)
    assert result.returncode == 0, result.stderr[-3000:]
    ran = set(re.findall(r"^(?:local)?rule (\w+):", result.stdout + result.stderr, re.MULTILINE))
    assert ran == {"summarize", "table1", "compute_table", "paper_values", "paper", "all"}, ran
    assert (workdir / "report/tables/table1.csv").read_text() != before
    assert (workdir / "report/paper.pdf").stat().st_mtime > paper_time
