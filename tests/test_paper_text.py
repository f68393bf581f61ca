"""The report's text and the notebooks' titles: sources named by their authors and works, and every number
that depends on the config read from it (the scrambling grid)."""

import json
import re

import yaml

from bagnet_repro.config.loading import merged
from bagnet_repro.paper.settings import settings_values
from helpers import PROJECT

TEMPLATES = PROJECT / "workflow" / "report"
PUBLISHED = [TEMPLATES / "paper.typ", *sorted((TEMPLATES / "captions").glob("*.rst"))]


def notebook_titles_and_text():
    """Every markdown cell and every title, suptitle or axis label a notebook's code sets."""
    found = []
    for notebook in sorted((PROJECT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "markdown":
                found.append((notebook.name, source))
            else:
                found += [(notebook.name, line) for line in source.splitlines() if re.search(r"title|label", line)]
    return found


def test_no_published_text_or_figure_title_calls_a_source_by_its_seed_number():
    for path in PUBLISHED:
        assert not re.search(r"seed 00\d|seed's|seed (001|003)", path.read_text(), re.IGNORECASE), path.name
    for name, text in notebook_titles_and_text():
        assert not re.search(r"seed 00\d", text, re.IGNORECASE), (name, text)


def test_the_report_lists_its_sources_by_authors_and_titles():
    template = (PROJECT / "workflow" / "report" / "paper.typ").read_text()
    for source in (
        "W. Brendel and M. Bethge",
        "Approximating CNNs with Bag-of-local-Features models works",
        "M. Mundt, S. Majumder, T. Weis and V. Ramesh",
        "Rethinking layer-wise feature amounts",
        "T. Tran (gau-nernst)",
        "vision-toolbox",
        "S. Lazebnik",
    ):
        assert source in " ".join(template.split()), source
    keys = re.findall(r'#cite-key\("([a-z-]+)"\)', template)
    assert set(keys) >= {"report", "bagnets", "feature-amounts", "vision-toolbox", "scenes"}
    assert all(f"  {key}: [" in template for key in keys)  # every cited key is in the list


def test_the_scrambling_piece_count_comes_from_the_config():
    template = (PROJECT / "workflow" / "report" / "paper.typ").read_text()
    assert "#v.settings.scramble_pieces shuffled pieces" in template
    # Only the sentence about the report itself may name its own 16 pieces.
    assert [line for line in template.splitlines() if "16 pieces" in line] == [
        '- *Scrambling.* The report scrambles into 16 pieces (a 4x4 grid) only#if "sweep" in v [; the sweep shows how'
    ]
    config = yaml.safe_load((PROJECT / "config.yaml").read_text())
    for grid, pieces in ((4, "16"), (3, "9"), (8, "64")):
        values = settings_values(
            merged(config, {"evaluate": {"scramble_grid": grid}}),
            config["train"]
            | {"optimizer": "adam", "lr": 4e-5, "batch_size": 4, "epochs": 40, "head": "report", "image_size": 224},
            division={"train", "test"},
        )
        assert (values["scramble_grid"], values["scramble_pieces"]) == (str(grid), pieces)
    for caption in ("table1.rst", "heatmaps_scrambled.rst"):
        text = (PROJECT / "workflow" / "report" / "captions" / caption).read_text()
        assert "{{ grid * grid }}-piece" in text and 'snakemake.config["evaluate"]["scramble_grid"]' in text


def test_building_the_pdf_leaves_no_scratch_copy_of_its_template(tmp_path, monkeypatch):
    """The template is copied beside the values to compile; the copy goes once the PDF is written, so the run
    holds no file that no job declares (export-run would count it as a stray)."""
    from bagnet_repro.paper.build import build_pdf

    monkeypatch.chdir(tmp_path)
    (tmp_path / "template.typ").write_text("A report.\n")
    values = tmp_path / "results" / "paper" / "values.json"
    values.parent.mkdir(parents=True)
    values.write_text("{}")
    build_pdf("template.typ", "results/paper/values.json", "paper.pdf")
    assert (tmp_path / "paper.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in values.parent.iterdir()) == ["values.json"]


def test_the_report_says_which_studies_the_config_switched_off():
    template = (PROJECT / "workflow" / "report" / "paper.typ").read_text()
    assert '#if v.settings.at("studies_off_text", default: "") != "" [#v.settings.studies_off_text]' in template
    config = yaml.safe_load((PROJECT / "config.yaml").read_text())
    train = config["train"] | {"optimizer": "adam", "lr": 4e-5, "batch_size": 4, "epochs": 40, "head": "report"}
    assert settings_values(config, train, division={"train", "test"})["studies_off_text"] == ""
    off = settings_values(merged(config, {"studies": {"heatmaps": False}}), train, division={"train", "test"})
    assert off["studies_off_text"].startswith("The config's studies section switched off the patch heatmaps")
    front = (TEMPLATES / "workflow.rst").read_text()
    assert "(``studies.{{ study }}: false``)" in front


# The report's networks and data set: the front page of a run without them must not name them.
REPORT_NETWORKS = ("bagnet9", "bagnet17", "bagnet33", "resnet50", "densenet121", "densenet169", "cbam_resnet50")


def checked_config(tmp_path, overlay: str, *configs: str) -> dict:
    """config.yaml, then ``configs`` of the project, then ``overlay``, checked as the workflow checks them."""
    from bagnet_repro.config.checks import check_config_files

    extra = tmp_path / "extra.yaml"
    extra.write_text(overlay)
    return check_config_files([*(PROJECT / name for name in configs), extra], PROJECT / "config.yaml")


def classes_table(folder, images: dict[str, tuple[int, int, int]]):
    """The run's table of classes as rule class_counts writes it, from a manifest with ``images``: class ->
    (train, val, test) counts; the report's entry of it (a FileRecord as Snakemake's report makes one)."""
    import types
    from pathlib import Path

    import pandas as pd
    from snakemake.report import Category, FileRecord

    from bagnet_repro.paper.class_counts import write_class_counts

    rows = [
        {"path": f"{name}/{split}{index}.jpg", "class": name, "split": split}
        for name, counts in images.items()
        for split, count in zip(("train", "val", "test"), counts, strict=True)
        for index in range(count)
    ]
    (folder / "results" / "data").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "results" / "data" / "manifest.tsv", sep="\t", index=False)
    write_class_counts(str(folder / "results/data/manifest.tsv"), str(folder / "report/tables/classes.csv"))
    job = types.SimpleNamespace(params={}, wildcards={})  # what the record reads of the job that made the file
    return FileRecord(Path("report/tables/classes.csv"), job, category=Category("Data"), labels={"name": "classes"})


def front_page(config: dict, categories: list[str], files: list) -> str:
    """The front page as Snakemake's report makes it (report/__init__.py: Jinja with its settings over the template,
    then docutils to HTML, in the folder the report is made in): the words a reader sees."""
    import html

    import jinja2
    from docutils.core import publish_parts
    from snakemake.report import Category

    class Snakemake:
        pass

    Snakemake.config = config
    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)  # Snakemake's settings
    page = environment.from_string((TEMPLATES / "workflow.rst").read_text())
    text = page.render(snakemake=Snakemake, categories={Category(name): {} for name in categories}, files=files)
    body = publish_parts(text, writer_name="html")["html_body"]
    assert "System Message" not in body, body  # a docutils error (e.g. the table not read) is shown in the page
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_the_html_front_page_names_a_folder_runs_classes_counts_and_studies(tmp_path, monkeypatch):
    """A folder run with the heatmaps switched off: the page names its folder, its networks, each class with its
    images per split and the totals, the studies with entries and once the one switched off; nothing of the
    report's own data set or networks."""
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    config = checked_config(
        tmp_path,
        f"data: {{source: folder, folder: {tmp_path / 'photos'}, name: Pets}}\nmodels: [bagnet33]\n"
        "weights: {models: {bagnet33: none}}\nstudies: {heatmaps: false}\n",
    )
    monkeypatch.chdir(tmp_path)
    table = classes_table(tmp_path, {"tabby cat": (6, 2, 3), "dog": (5, 1, 4)})
    text = front_page(config, ["Table 1", "Scrambling", "Precision", "Compute", "Data"], [table])
    assert "trains and tests bagnet33 with seeds" in text and "the image folder Pets" in text
    assert "class train val test images dog 5 1 4 10 tabby cat 6 2 3 11 all classes 11 3 7 21" in text
    assert "with entries in this report: Scrambling, Precision." in text
    assert text.count("switched off") == 1 and "( studies.heatmaps: false )" in text
    assert "15-scene" not in text and "not there yet" not in text
    assert not [name for name in REPORT_NETWORKS if name != "bagnet33" and re.search(rf"\b{name}\b", text)]


def test_the_html_front_page_names_the_demos_classes_and_counts(tmp_path, monkeypatch):
    """The demo with two networks: the page names them, the demo textures and each of the 15 classes with its
    counts; no other network of the report."""
    from bagnet_repro.config.classes import REPORT_CLASSES

    config = checked_config(tmp_path, "models: [bagnet17, resnet50]\nseeds: [0, 1]\n", "configs/demo.yaml")
    monkeypatch.chdir(tmp_path)
    table = classes_table(tmp_path, dict.fromkeys(REPORT_CLASSES, (4, 1, 2)))
    text = front_page(config, ["Table 1", "Scrambling", "Precision", "Heatmaps", "Data"], [table])
    assert f"trains and tests bagnet17, resnet50 with seeds 0, 1 at {config['train']['image_size']} px" in text
    assert "synthetic demo textures" in text
    for name in REPORT_CLASSES:
        assert f" {name} 4 1 2 7 " in text, name
    assert "all classes 60 15 30 105" in text
    assert "with entries in this report: Scrambling, Precision, Heatmaps." in text
    assert not [name for name in REPORT_NETWORKS if name not in config["models"] and re.search(rf"\b{name}\b", text)]


def test_the_html_front_page_of_a_run_without_its_table_of_classes_says_so(tmp_path, monkeypatch):
    """A report made before rule class_counts ran (or of targets that do not need it) still renders and says the
    table is not there yet instead of naming classes."""
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    config = checked_config(tmp_path, f"data: {{source: folder, folder: {tmp_path / 'photos'}}}\n")
    monkeypatch.chdir(tmp_path)
    text = front_page(config, ["Table 1"], [])
    assert "The table of the run's classes and their images per split ( report/tables/classes.csv" in text
    assert "is not there yet" in text and "all classes" not in text


def test_the_table_of_classes_counts_each_split_and_refuses_a_manifest_without_classes(tmp_path):
    import pandas as pd
    import pytest

    from bagnet_repro.errors import UserError
    from bagnet_repro.paper.class_counts import class_counts, write_class_counts
    from bagnet_repro.paper.values import split_values

    manifest = pd.DataFrame({"class": ["b", "a", "a", "NA", "b"], "split": ["train", "test", "train", "val", "val"]})
    table = class_counts(manifest)
    assert table.to_dict("records") == [
        {"class": "NA", "train": 0, "val": 1, "test": 0, "images": 1},
        {"class": "a", "train": 1, "val": 0, "test": 1, "images": 2},
        {"class": "b", "train": 1, "val": 1, "test": 0, "images": 2},
        {"class": "all classes", "train": 2, "val": 2, "test": 1, "images": 5},
    ]
    values = split_values(manifest)
    assert (values["classes"], values["train"], values["val"], values["test"]) == ("3", "2", "2", "1")
    assert values["class_names"] == "NA, a and b"
    bad = tmp_path / "manifest.tsv"
    bad.write_text("path\tsplit\nx.jpg\ttrain\n")
    with pytest.raises(UserError, match=r"manifest.tsv: the split's manifest has no class column"):
        write_class_counts(str(bad), str(tmp_path / "classes.csv"))
    assert not (tmp_path / "classes.csv").exists()
