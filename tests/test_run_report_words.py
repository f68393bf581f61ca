"""The report of any run speaks of that run: a 4-class folder of real photographs (several sizes) run to the PDF
and Snakemake's HTML report with a BagNet and a torchvision network over two seeds, three BagNets and no
baseline, and one network alone; each read as a reader would (every network and class named, no sentence about a
network, data set or test the run lacks unless it cites the report, the paired tests or the sentence why none)
and no output path holding a character Windows, macOS or a zip refuses.

The photographs are a few real 15-scene images copied and resized into the test's own folder when the test runs
(never committed); the tests skip where they are absent."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
import yaml

from bagnet_repro.config.file_names import unportable_characters
from helpers import PROJECT, SHARED_SCENE15, run_snakemake

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SHARED_SCENE15 / "train").is_dir(), reason=f"real 15-scene photographs not found at {SHARED_SCENE15}"
    ),
]
SMALLEST = str(PROJECT / ".test" / "config" / "config.yaml")
CLASSES = {"beach": "Coast", "woods": "Forest", "kitchen": "Kitchen", "road": "Highway"}
SIZES = ((96, 72), (80, 80), (120, 90), (72, 96))  # the photographs' sizes cycle through these
# The report's networks and data set: a sentence naming one the run lacks must be citing the report.
REPORT_THINGS = ("bagnet9", "bagnet17", "bagnet33", "resnet50", "densenet121", "densenet169", "cbam_resnet50")


def holiday_photos(root: Path, per_class: int = 10) -> Path:
    """``root/<class>/`` with ``per_class`` real photographs each, resized to several sizes and two formats."""
    from PIL import Image

    for name, scene in CLASSES.items():
        (root / name).mkdir(parents=True)
        for index, source in enumerate(sorted((SHARED_SCENE15 / "train" / scene).iterdir())[:per_class]):
            image = Image.open(source).convert("RGB").resize(SIZES[index % len(SIZES)])
            suffix = ".jpg" if index % 2 else ".png"
            image.save(root / name / f"photo_{index:02d}{suffix}")
    return root


def run_to_reports(work: Path, overlay: dict) -> tuple[str, str]:
    """Run the workflow to the PDF and the HTML report (a zip); their text, whitespace collapsed."""
    import pymupdf

    work.mkdir(parents=True, exist_ok=True)
    config = work / "overlay.yaml"
    base = {
        "backbones": {"names": []},
        "data": {"source": "folder", "folder": str(holiday_photos(work / "photos"))},
        "weights": {"models": dict.fromkeys(overlay["models"], "none")},  # random init: no download
    }
    config.write_text(yaml.safe_dump({**base, **overlay, "data": {**base["data"], **overlay.get("data", {})}}))
    result = run_snakemake(work, "--cores", "2", "--configfile", SMALLEST, str(config), timeout=2400)
    assert result.returncode == 0, result.stderr[-4000:]
    result = run_snakemake(work, "--report", str(work / "report.zip"), "--configfile", SMALLEST, str(config))
    assert result.returncode == 0, result.stderr[-4000:]
    with pymupdf.open(work / "report/paper.pdf") as document:
        # Typst's hyphenation leaves soft hyphens where a word breaks across lines.
        pdf = " ".join(" ".join(page.get_text() for page in document).replace("\xad\n", "").replace("’", "'").split())
    with zipfile.ZipFile(work / "report.zip") as archive:
        page = next(name for name in archive.namelist() if name.endswith("report.html"))
        html = archive.read(page).decode()
    return pdf, html


def _page_words(strings: list[str]) -> str:
    import html as markup
    import json

    joined = " ".join(json.loads(string) for string in strings)
    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", joined)).split())


def html_words(html: str) -> str:
    """The words a reader sees on the HTML report's pages: the front page and each entry's caption."""
    strings = re.findall(r'var workflow_desc = ("(?:[^"\\]|\\.)*")', html)
    strings += re.findall(r'"caption": ("(?:[^"\\]|\\.)*")', html)
    assert len(strings) > 5, "no front page or captions found in the HTML report"
    return _page_words(strings)


def front_page_words(html: str) -> str:
    """The words of the HTML report's front page alone."""
    strings = re.findall(r'var workflow_desc = ("(?:[^"\\]|\\.)*")', html)
    assert len(strings) == 1, "no front page found in the HTML report"
    return _page_words(strings)


def front_page_names_the_classes(work: Path, html: str) -> None:
    """The front page's table of classes: each class with its images per split and the totals, as the run's
    manifest holds them."""
    import pandas as pd

    manifest = pd.read_csv(work / "results/data/manifest.tsv", sep="\t", dtype=str, keep_default_na=False)
    front = front_page_words(html)
    assert "class train val test images" in front, front
    for name in CLASSES:
        split = manifest[manifest["class"] == name].split
        counts = [int((split == part).sum()) for part in ("train", "val", "test")]
        assert f" {name} {' '.join(map(str, counts))} {sum(counts)} " in front, name
    totals = [int((manifest.split == part).sum()) for part in ("train", "val", "test")]
    assert f"all classes {' '.join(map(str, totals))} {len(manifest)}" in front
    assert "not there yet" not in front


def sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.;])\s+(?=[A-Z(])", text)


def foreign_sentences(text: str, models: list[str]) -> list[str]:
    """Sentences that name a network of the report this run lacks, or the 15-scene data, without citing the
    report."""
    lacking = [thing for thing in REPORT_THINGS if thing not in models]
    found = []
    for sentence in sentences(text):
        lower = sentence.lower()
        names = any(re.search(rf"\b{thing}\b", lower) for thing in lacking)
        if (names or "15-scene" in lower or "15 scene" in lower) and "report" not in lower:
            found.append(sentence)
    return found


def the_run_part(pdf: str) -> str:
    """The PDF up to its licence table (which lists every asset the pipeline can use, marking this run's)."""
    return pdf.split("Licences of the data and weights")[0]


def no_unportable_output_paths(work: Path) -> None:
    for folder in ("results", "report", "logs"):
        for path in (work / folder).rglob("*"):
            relative = str(path.relative_to(work))
            assert not unportable_characters(relative), relative


def check_words(work: Path, pdf: str, html: str, models: list[str]) -> None:
    run_part = the_run_part(pdf)
    for name in [*models, *CLASSES]:
        assert name in run_part, name
    assert foreign_sentences(run_part, models) == []
    words = html_words(html)
    for model in models:
        assert model in words, model
    assert foreign_sentences(words, models) == []
    front_page_names_the_classes(work, html)
    assert "not the report's data, so no value of the report is compared" in pdf
    no_unportable_output_paths(work)


def test_a_bagnet_and_a_torchvision_network_over_two_seeds_on_holiday_photos(tmp_path):
    models = ["bagnet17", "torchvision:mobilenet_v3_small"]
    pdf, html = run_to_reports(
        tmp_path, {"models": models, "seeds": [0, 1], "data": {"name": "Holiday photos"}, "heatmaps": {"count": 2}}
    )
    check_words(tmp_path, pdf, html, models)
    assert "Holiday photos (4 classes)" in pdf
    # The paired test between the two networks, its correction stated, and no ranking the intervals lack.
    assert "The exact McNemar test compares bagnet17 (the run's first BagNet) with each other network" in pdf
    assert "Holm" in pdf and "2 tests over 1 pair(s)" in pdf
    assert "is the most accurate" in pdf or "so the run does not rank them" in pdf
    assert (tmp_path / "report/figures/confusion_torchvision-mobilenet_v3_small.pdf").is_file()
    print(pdf[: pdf.index("Provenance.")])
    print(pdf[pdf.index("Do two models err") : pdf.index("The scrambling test")])


def test_three_bagnets_and_no_baseline(tmp_path):
    models = ["bagnet9", "bagnet17", "bagnet33"]
    pdf, html = run_to_reports(tmp_path, {"models": models, "train": {"image_size": 48}})  # bagnet33 needs > 32 px
    check_words(tmp_path, pdf, html, models)
    assert "every layer that widens the field: the field of a last-layer unit is 33 px" in pdf


def test_one_network_alone_says_why_there_is_no_paired_test(tmp_path):
    models = ["torchvision:mobilenet_v3_small"]
    pdf, html = run_to_reports(tmp_path, {"models": models, "studies": {"backbones": False}})
    check_words(tmp_path, pdf, html, models)
    # No BagNet: no heatmaps (auto); the backbones' table switched off by the config, said once in each report.
    assert "The config's studies section switched off the vision-toolbox backbones' params/FLOPs/latency table" in pdf
    words = html_words(html)
    assert "with entries in this report: Scrambling, Precision." in words
    # html_words puts a space where a tag was: around each literal (<tt>) of the page.
    assert "The config switched off the study backbones ( studies.backbones: false )." in words
    assert "This run trains one network (torchvision:mobilenet_v3_small), so there is no pair for a paired test." in pdf
    assert "This run trains no BagNet, so there is no table of a BagNet's receptive field." in pdf
    assert "McNemar tests" not in pdf.split("Do two models err")[1].split("The scrambling test")[0]
    print(pdf[pdf.index("Abstract.") : pdf.index("Provenance.")])
    print(pdf[pdf.index("Do two models err") : pdf.index("The scrambling test")])
