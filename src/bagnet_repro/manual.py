"""The manual's generated sections: the config keys from the schema, the recipes' values, the code's layout,
the commands declared as typed functions (cli/stages.py).

``python -m bagnet_repro.manual`` rewrites every region between ``<!-- generated:NAME -->`` and ``<!-- end -->``
in docs/; ``--check`` only reports stale regions (tests/test_manual.py runs it), so a changed schema or recipe
cannot leave the manual behind. Torch-free: it reads YAML, a dict, the sources' docstrings (never imports them)
and the stages' signatures (the CLI imports no torch).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import yaml

from .config.recipes import RECIPES
from .files.atomic import write_text_atomic
from .runs.targets import workflow_targets_table

PROJECT = Path(__file__).resolve().parents[2]
SCHEMA = PROJECT / "workflow" / "schemas" / "config.schema.yaml"
PACKAGE = Path(__file__).resolve().parent
RULES = PROJECT / "workflow" / "rules"
REGION = re.compile(r"(<!-- generated:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- end -->)", re.DOTALL)


def _cell(text: str) -> str:
    """``text`` in one table cell: a ``|`` would end the cell and ``<name>`` would be read as an HTML tag."""
    return str(text).replace("|", "\\|").replace("<", "\\<").replace("\n", " ")


def _allowed(spec: dict) -> str:
    """The values a key accepts, in words: its enum, reference, range or pattern."""
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[1].replace("_", " ")
    if "enum" in spec:
        return ", ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    for key in ("oneOf", "anyOf"):
        if key in spec:
            return " or ".join(_allowed(option) for option in spec[key])
    kind = spec.get("type", "object" if "properties" in spec else "")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "array" and "items" in spec:
        kind = f"list of {_allowed(spec['items'])}"
    limits = [
        f">= {spec['minimum']}" if "minimum" in spec else "",
        f"> {spec['exclusiveMinimum']}" if "exclusiveMinimum" in spec else "",
        f"<= {spec['maximum']}" if "maximum" in spec else "",
        f"< {spec['exclusiveMaximum']}" if "exclusiveMaximum" in spec else "",
    ]
    bounds = ", ".join(b for b in limits if b)
    return f"{kind} ({bounds})" if bounds else kind


def _rows(properties: dict, prefix: str = ""):
    for name, spec in properties.items():
        key = f"{prefix}{name}"
        default = (
            f"`{yaml.safe_dump(spec['default'], default_flow_style=True).strip().removesuffix('...').strip()}`"
            if "default" in spec
            else ""
        )
        yield key, _allowed(spec), default, spec.get("description", "")
        if "properties" in spec:
            yield from _rows(spec["properties"], key + ".")
        items = spec.get("items", {})
        if isinstance(items, dict) and "properties" in items:
            yield from _rows(items["properties"], key + "[].")


def config_table(schema: dict) -> str:
    """Every config key with what it accepts, its default and its description, in the schema's order."""
    lines = [
        "Generated from `workflow/schemas/config.schema.yaml` by `python -m bagnet_repro.manual`;",
        "edit the schema, not this table.",
        "",
        "| key | accepts | default | what |",
        "| --- | --- | --- | --- |",
    ]
    names = ", ".join(f"`{name}`: {_cell(spec['description'])}" for name, spec in schema["$defs"].items())
    for row in _rows(schema["properties"]):
        lines.append("| " + " | ".join(_cell(c) for c in (f"`{row[0]}`", *row[1:])) + " |")
    return "\n".join(lines + ["", f"Names: {names}.", ""])


def recipe_table(recipes: dict[str, dict]) -> str:
    """Each recipe's values side by side; an empty cell keeps the TrainSettings default."""
    keys = list(dict.fromkeys(k for values in recipes.values() for k in values))
    lines = [
        "Generated from `src/bagnet_repro/config/recipes.py` by `python -m bagnet_repro.manual`;",
        "an empty cell keeps the `TrainSettings` default.",
        "",
        "| key | " + " | ".join(f"`{name}`" for name in recipes) + " |",
        "| --- |" + " --- |" * len(recipes),
    ]
    for key in keys:
        cells = [f"`{recipes[name][key]}`" if key in recipes[name] else "" for name in recipes]
        lines.append(f"| `{key}` | " + " | ".join(cells) + " |")
    return "\n".join(lines + [""])


def summary(source: str, where: str) -> str:
    """The first sentence of a Python or Snakemake file's docstring (every module must have one)."""
    try:
        docstring = ast.get_docstring(ast.parse(source))
    except SyntaxError:  # a .smk file: its docstring is the first string literal all the same
        match = re.match(r'\s*"""(.*?)"""', source, re.DOTALL)
        docstring = match.group(1) if match else None
    if not docstring:
        raise SystemExit(f"error: {where} has no docstring; its first sentence is its line in docs/layout.md")
    paragraph = " ".join(docstring.strip().split("\n\n")[0].split())
    sentence = re.split(r"(?<=[a-z)`'])\. (?=[A-Z`(])", paragraph, maxsplit=1)[0]  # not after "e.g."
    return sentence.removesuffix(".")


def module_table(package: Path = PACKAGE, rules: Path = RULES) -> str:
    """One row per package and module of ``package`` and per rule file, from their docstrings."""
    lines = ["| module | what it is for |", "| --- | --- |"]
    for path in sorted(package.rglob("*.py"), key=lambda p: p.relative_to(package).parts):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts or (path.name == "__init__.py" and len(relative.parts) == 1):
            continue
        name = f"`{relative.parent.as_posix()}/`" if path.name == "__init__.py" else f"`{relative.as_posix()}`"
        lines.append(f"| {name} | {_cell(summary(path.read_text(), str(path)))} |")
    for path in sorted(rules.rglob("*.smk")):
        name = f"`workflow/rules/{path.relative_to(rules).as_posix()}`"
        lines.append(f"| {name} | {_cell(summary(path.read_text(), str(path)))} |")
    return "\n".join(lines + [""])


def command_pages() -> str:
    """Each declared command: its line, then every option with its type, default and help, from its signature."""
    from .cli import declared_stages
    from .cli.stages import option_rows

    lines = []
    for name, stage in declared_stages().items():
        rows = option_rows(stage)
        lines += [f"### `bagnet-repro {name}`", "", stage.help, ""]
        if not rows and not stage.renamed:
            lines += ["It has no options.", ""]
            continue
        lines += ["| option | type | default | what it is |", "| --- | --- | --- | --- |"]
        for option, kind, default, help_text in rows:
            lines.append(f"| `{option}` | {_cell(kind)} | {_cell(default)} | {_cell(help_text)} |")
        for old, new in stage.renamed.items():
            lines.append(f"| `{old}` | | | refused: now `{new}` |")
        lines.append("")
    return "\n".join(lines)


def sections() -> dict[str, str]:
    schema = yaml.safe_load(SCHEMA.read_text())
    return {
        "config": config_table(schema),
        "recipes": recipe_table(RECIPES),
        "modules": module_table(),
        "targets": workflow_targets_table(),
        "commands": command_pages(),
    }


def render(text: str, generated: dict[str, str], where: str) -> str:
    """``text`` with each marked region's body replaced by its generated section (unknown names refused)."""

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in generated:
            raise SystemExit(f"error: {where}: unknown generated section {name!r}")
        return match.group(1) + generated[name] + match.group(4)

    return REGION.sub(replace, text)


def stale_pages(docs: Path, write: bool) -> list[Path]:
    """The pages of ``docs`` whose generated regions are out of date (rewritten when ``write``)."""
    generated, stale = sections(), []
    for page in sorted(docs.rglob("*.md")):
        text = page.read_text()
        new = render(text, generated, str(page))
        if new != text:
            stale.append(page)
            if write:
                write_text_atomic(page, new)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bagnet_repro.manual", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages (exit 1 if any)")
    parser.add_argument("--docs", type=Path, default=PROJECT / "docs")
    args = parser.parse_args(argv)
    stale = stale_pages(args.docs, write=not args.check)
    for page in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {page}")
    if args.check and stale:
        print(
            "error: the manual's generated sections are out of date; run python -m bagnet_repro.manual", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
