"""The words about the code name code that exists: every repository path, package module and ``bagnet_repro.x``
module named in the manual (generated sections included), the README, the package's docstrings and comments, the
workflow, the scripts and CI is there. A renamed or deleted file otherwise lives on in the text for months."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import PROJECT

PACKAGE = PROJECT / "src" / "bagnet_repro"
# Where the words are: benchmarks/results/ is left out, as its files record runs of earlier commits.
TEXTS = (
    *("README.md", "docs/*.md", "src/**/*.py", "Snakefile", "workflow/**/*", "scripts/*", ".ci/run", "envs/*"),
    *("tests/**/*", "notebooks/*", "profiles/**/*", "configs/*", "benchmarks/*", "pyproject.toml", "config.yaml"),
)
SUFFIXES = ("py", "smk", "md", "yaml", "yml", "sh", "ipynb", "typ", "txt", "toml", "lock", "rst", "cfg")
# A path-like word: letters, digits and ._-/ with at least one slash, or a file name with one of SUFFIXES.
WORD = re.compile(r"(?<![\w./:@~$-])(\.?[\w][\w.-]*(?:/[\w.-]+)*/?)(?![\w/(<{*$])")
DOTTED = re.compile(r"(?<![\w.])bagnet_repro(?:\.\w+)+")
# ``training.loop``: a module named from the package's root, in backticks. A room that is also a top-level config
# key (``data.folder``, ``compute.device``) is left out: there the words name the key.
RELATIVE = re.compile(r"`(\w+(?:\.\w+)+)`")
FILE_SUFFIXES = {*SUFFIXES, "pdf", "png", "csv", "json", "npz", "tex", "zip", "log", "pt", "html", "gz"}


def tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    return [line for line in listed.splitlines() if (PROJECT / line).exists()]


def texts(files: list[str]) -> list[Path]:
    globbed = {str(p.relative_to(PROJECT)) for pattern in TEXTS for p in PROJECT.glob(pattern) if p.is_file()}
    return [PROJECT / f for f in sorted(globbed & set(files)) if f != "tests/test_drift.py"]  # its examples


def words_in(path: Path) -> str:
    """The file's words; in Python only its docstrings and comments."""
    text = path.read_text(errors="replace")
    if path.suffix == ".py":
        # The package's strings that reach a reader (argparse's help, the manual's lines) count; a test's
        # strings are often files it makes itself.
        text = words_of_python(text, strings=PACKAGE in path.parents)
    return text


def names_in(path: Path) -> list[tuple[int, str]]:
    """(line number, word) of every path-like word in the file."""
    found = []
    for number, line in enumerate(words_in(path).splitlines(), 1):
        if "://" in line:  # addresses: their paths are not ours
            line = re.sub(r"\S+://\S+", " ", line)
        for match in WORD.finditer(line):
            found.append((number, match.group(1).rstrip(".")))
    return found


def words_of_python(source: str, strings: bool = False) -> str:
    """The docstrings and comments of a module, each on its own line number (code lines left blank)."""
    lines = [""] * (source.count("\n") + 1)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = node.body[0] if node.body else None
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
                for offset, text in enumerate(doc.value.value.splitlines()):
                    lines[doc.lineno - 1 + offset] += " " + text
    for number, line in enumerate(source.splitlines()):
        if "#" in line:
            lines[number] += " " + line[line.index("#") :]
        for text in re.findall(r'"([^"]*(?:\.py|\.md)[^"]*)"', line) if strings else ():
            lines[number] += " " + text
    return "\n".join(lines)


class Tree:
    """What exists: the tracked files and folders, found from the root, the package, or the naming file's folder."""

    def __init__(self, files: list[str]):
        self.files = set(files)
        self.folders = {str(Path(f).parents[i]) for f in files for i in range(len(Path(f).parents) - 1)}
        self.basenames = {Path(f).name for f in files}
        self.roots = {f.split("/")[0] for f in files if "/" in f}
        self.rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
        schema = yaml.safe_load((PROJECT / "workflow" / "schemas" / "config.schema.yaml").read_text())
        self.config_keys = set(schema["properties"])

    def exists(self, relative: str, bases: list[str]) -> bool:
        relative = relative.rstrip("/")
        for base in bases:
            candidate = str(Path(base, relative)) if base else relative
            candidate = str(Path(candidate))  # ./x -> x
            if candidate in self.files or candidate in self.folders:
                return True
        return False

    def checked(self, word: str) -> bool:
        """Whether the word names something of ours: a path under a tracked folder or a package room, or a file
        name with a code or manual suffix. Run outputs (results/, report/, logs/) and users' paths are left alone."""
        first = word.split("/")[0]
        if "/" in word:
            if first in self.roots:
                return True
            # A package room only where a module is named (data/ is also a user's data folder).
            return first in self.rooms and word.endswith(".py")
        return not word.startswith(".") and (word.endswith(".py") or word.endswith(".smk"))


def missing_names(paths: list[Path], tree: Tree) -> list[str]:
    problems = []
    for path in paths:
        relative = path.relative_to(PROJECT) if path.is_relative_to(PROJECT) else path
        bases = ["", "src/bagnet_repro", "src", str(relative.parent)]
        for number, word in names_in(path):
            if not tree.checked(word):
                continue
            if "/" not in word:
                if word not in tree.basenames:
                    problems.append(f"{relative}:{number}: {word}")
            elif not tree.exists(word, bases):
                problems.append(f"{relative}:{number}: {word}")
        for number, line in enumerate(words_in(path).splitlines(), 1):
            for dotted in DOTTED.findall(line):
                if not module_exists(dotted):
                    problems.append(f"{relative}:{number}: {dotted}")
            for dotted in RELATIVE.findall(line):
                room = dotted.split(".")[0]
                if dotted.rsplit(".", 1)[1] in FILE_SUFFIXES or room not in tree.rooms - tree.config_keys:
                    continue  # a file name (``config.yaml``, ``paper.pdf``) or a config key
                if not module_exists(f"bagnet_repro.{dotted}"):
                    problems.append(f"{relative}:{number}: {dotted}")
    return list(dict.fromkeys(problems))


def module_exists(dotted: str) -> bool:
    """``bagnet_repro.a.b[.name]``: each part a package or module, until a module's name (not looked up)."""
    where = PACKAGE
    for part in dotted.split(".")[1:]:
        if (where / part / "__init__.py").exists():
            where = where / part
        elif (where / f"{part}.py").exists():
            return True
        else:  # a name of a package (its __init__.py defines or lists it), or nothing
            init = (where / "__init__.py").read_text()
            return re.search(rf"\b{re.escape(part)}\b", words_of_code(init)) is not None
    return True


def words_of_code(source: str) -> str:
    """The module without its docstrings and comments: where a name is defined or listed, not merely mentioned."""
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    names |= {
        str(c.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Dict | ast.List | ast.Tuple)
        for c in ast.walk(n)
        if isinstance(c, ast.Constant) and isinstance(c.value, str)
    }
    return " ".join(sorted(names))


def test_every_path_and_module_the_words_name_exists():
    files = tracked()
    problems = missing_names(texts(files), Tree(files))
    assert problems == [], "named but not in the repository:\n" + "\n".join(problems)


def test_the_check_finds_a_moved_module_and_leaves_run_outputs_alone(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "The recipes live in `src/bagnet_repro/training/recipes.py` (see training/recipes.py and\n"
        "`bagnet_repro.training.recipes`); `results/metrics/x.json` and `report/paper.pdf` are the run's;\n"
        "`src/bagnet_repro/config/recipes.py`, `config/catalog.py`, `bagnet_repro.config.catalog.MODEL_NAMES`,\n"
        "`docs/recipes.md`, `workflow/rules/` and a user's `data/scene15/` are fine; so is https://x.org/a/b.py.\n"
        "``training.loop`` is a module, ``training.recipes`` is not; ``data.folder`` is a config key.\n"
    )
    tree = Tree(tracked())
    found = missing_names([page], tree)
    assert [problem.split(": ", 1)[1] for problem in found] == [
        "src/bagnet_repro/training/recipes.py",
        "training/recipes.py",
        "bagnet_repro.training.recipes",
        "training.recipes",
    ], found


@pytest.mark.parametrize(
    ("dotted", "exists"),
    [
        ("bagnet_repro.config.catalog", True),
        ("bagnet_repro.config.catalog.MODEL_NAMES", True),
        ("bagnet_repro.feature_amounts.variants", True),  # listed in its __init__'s lazy exports
        ("bagnet_repro.feature_amounts.depths", False),
        ("bagnet_repro.training.recipes", False),
    ],
)
def test_module_names_resolve_as_python_would(dotted, exists):
    assert module_exists(dotted) is exists


def workflow_imports(files: list[Path]) -> set[str]:
    """The package's parts the workflow imports, as docs/layout.md names them: a room (``config/``) or a module."""
    parts = set()
    for path in files:
        for module in re.findall(r"^\s*(?:from|import) bagnet_repro\.([\w.]+)", path.read_text(), re.MULTILINE):
            names = module.split(".")
            parts.add("config/" if names[0] == "config" else "/".join(names) + ".py")
    return parts


def test_the_layout_page_names_what_the_workflow_imports_of_the_package():
    workflow = [PROJECT / "Snakefile", *sorted((PROJECT / "workflow" / "rules").glob("*.smk"))]
    layout = (PROJECT / "docs" / "layout.md").read_text()
    start = r"The workflow \(the Snakefile and `workflow/rules/`\) imports of the package only "
    sentence = re.search(start + r"(.*?)\.\n", layout, re.DOTALL)
    assert sentence, "docs/layout.md: the sentence that names what the workflow imports is gone"
    named = set(re.findall(r"`([\w/.]+)`", sentence.group(1)))
    assert workflow_imports(workflow) == named
