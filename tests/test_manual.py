"""The manual's generated sections follow the schema and the recipes, and the README stays a page."""

import pytest
import yaml

from bagnet_repro import manual
from bagnet_repro.config.recipes import RECIPES
from helpers import PROJECT


def test_generated_sections_are_current():
    assert manual.stale_pages(PROJECT / "docs", write=False) == [], "run python -m bagnet_repro.manual"


def test_a_changed_recipe_or_schema_makes_the_pages_stale(tmp_path, monkeypatch):
    page = tmp_path / "recipes.md"
    page.write_text((PROJECT / "docs" / "recipes.md").read_text())
    assert manual.stale_pages(tmp_path, write=False) == []
    monkeypatch.setitem(RECIPES["report"], "lr", 1e-3)
    assert manual.stale_pages(tmp_path, write=True) == [page]
    assert "| `lr` | `0.001` |" in page.read_text() and manual.stale_pages(tmp_path, write=False) == []
    schema = yaml.safe_load(manual.SCHEMA.read_text())
    schema["properties"]["split"]["properties"]["seed"]["default"] = 7
    assert "| `split.seed` | integer (>= 0) | `7` |" in manual.config_table(schema)


def test_every_config_key_and_recipe_is_in_the_manual():
    configuration = (PROJECT / "docs" / "configuration.md").read_text()
    schema = yaml.safe_load(manual.SCHEMA.read_text())
    for key in ("train.recipe", "compute.device", "feature_amounts.options", "data.urls[].sha256"):
        assert f"| `{key}` |" in configuration
    assert len(schema["properties"]) == sum(f"| `{top}` |" in configuration for top in schema["properties"])
    recipes = (PROJECT / "docs" / "recipes.md").read_text().splitlines()
    header = next(line for line in recipes if line.startswith("| key"))
    assert header == "| key | " + " | ".join(f"`{name}`" for name in RECIPES) + " |"


def test_an_unknown_generated_section_is_refused(tmp_path):
    (tmp_path / "x.md").write_text("<!-- generated:nothing -->\n<!-- end -->\n")
    with pytest.raises(SystemExit, match="unknown generated section 'nothing'"):
        manual.stale_pages(tmp_path, write=False)


def test_the_readme_is_a_page_that_links_every_manual_page():
    readme = (PROJECT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    index = (PROJECT / "docs" / "README.md").read_text()
    for page in (PROJECT / "docs").glob("*.md"):
        assert f"]({page.name})" in index or page.name == "README.md", page.name


def test_the_module_table_follows_the_docstrings_and_refuses_a_module_without_one(tmp_path):
    package, rules = tmp_path / "pkg", tmp_path / "rules"
    (package / "room").mkdir(parents=True)
    rules.mkdir()
    (package / "room" / "__init__.py").write_text('"""A room. Its second sentence is not shown."""\n')
    (package / "room" / "tool.py").write_text('"""Does one job, e.g. this one.\n\nDetails."""\nimport os\n')
    (rules / "stage.smk").write_text('"""Stage rules: one per step."""\n\n\nrule a:\n    output: "x"\n')
    table = manual.module_table(package, rules)
    assert "| `room/` | A room |" in table
    assert "| `room/tool.py` | Does one job, e.g. this one |" in table
    assert "| `workflow/rules/stage.smk` | Stage rules: one per step |" in table
    (package / "room" / "bare.py").write_text("import os\n")
    with pytest.raises(SystemExit, match="bare.py has no docstring"):
        manual.module_table(package, rules)
