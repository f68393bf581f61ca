"""The private parts of Snakemake that ``runs/workflow_dag.py`` uses, named, and the bound that covers them.

Snakemake's public API plans and runs a workflow but neither hands back the built DAG nor writes a metadata
record; the run archive needs both. These names are private, so pyproject.toml caps Snakemake at the major
version they were read from, and this test fails first when an upgrade within it drops one of them.
"""

import inspect
import re
import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

from helpers import PROJECT

# (module, class, private attribute) as workflow_dag.py reaches them
PRIVATE = [
    ("snakemake.api", "WorkflowApi", "_workflow"),
    ("snakemake.workflow", "Workflow", "_prepare_dag"),
    ("snakemake.workflow", "Workflow", "_build_dag"),
    ("snakemake.persistence.file", "FilePersistence", "_read_record"),
    ("snakemake.persistence.file", "FilePersistence", "_write_record"),
    ("snakemake.persistence.file", "FilePersistence", "_unmark_incomplete"),
    ("snakemake.persistence.file", "FilePersistence", "_delete_record"),
    ("snakemake.persistence", "PersistenceBase", "_filter_incomplete_keys"),
]


def test_workflow_dag_uses_exactly_the_named_private_parts():
    source = (PROJECT / "src" / "bagnet_repro" / "runs" / "workflow_dag.py").read_text()
    used = set(re.findall(r"\.(_[a-z][a-z_]+)\b", source))
    assert used == {name for _, _, name in PRIVATE}


def test_the_installed_snakemake_has_them():
    import importlib

    for module, cls, name in PRIVATE:
        owner = getattr(importlib.import_module(module), cls)
        member = inspect.getattr_static(owner, name, None)  # a method, or a property (_workflow)
        assert callable(member) or isinstance(member, property), f"{module}.{cls}.{name} is gone"


def test_pyproject_caps_snakemake_at_the_major_version_they_come_from():
    import snakemake

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    (spec,) = [Requirement(r).specifier for r in project["dependencies"] if Requirement(r).name == "snakemake"]
    installed = Version(snakemake.__version__)
    assert spec.contains(installed)
    assert not spec.contains(f"{installed.major + 1}.0"), "private internals: cap Snakemake below the next major"
