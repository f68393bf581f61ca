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
        "- *Scrambling.* The report scrambles into 16 pieces (a 4x4 grid) only; the sweep shows how the gap opens with"
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
    assert "(``studies.{{ study }}: false``)" in front and "the split lists" in front


def test_the_html_front_page_names_the_data_set_where_its_classes_are_and_the_studies(tmp_path):
    """The front page rendered as Snakemake renders it (Jinja over the checked config and the report's categories):
    a folder run with the heatmaps switched off names its folder, points at the split for the classes, lists the
    studies that have entries and says once that the config switched the heatmaps off."""
    import jinja2
    from snakemake.report import Category

    from bagnet_repro.config.checks import check_config_files

    (tmp_path / "photos" / "cat").mkdir(parents=True)
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        f"data: {{source: folder, folder: {tmp_path / 'photos'}, name: Pets}}\nmodels: [bagnet33]\n"
        "weights: {models: {bagnet33: none}}\nstudies: {heatmaps: false}\n"
    )
    config = check_config_files([extra], PROJECT / "config.yaml")

    class Snakemake:
        pass

    Snakemake.config = config
    categories = {Category(name): {} for name in ("Table 1", "Scrambling", "Precision", "Compute")}
    page = jinja2.Environment().from_string((TEMPLATES / "workflow.rst").read_text())
    text = " ".join(page.render(snakemake=Snakemake, categories=categories, files={}).split())
    assert "the image folder Pets" in text and "the split lists (``results/data/manifest.tsv``;" in text
    assert "with entries in this report: Scrambling, Precision." in text
    assert text.count("switched off") == 1 and "(``studies.heatmaps: false``)" in text
    assert "15-scene" not in text
