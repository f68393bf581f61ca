"""envs/*.yaml name the same packages and version bounds as pyproject.toml."""

import re
import tomllib

import yaml

from helpers import PROJECT


def _requirement_map(requirements):
    return {re.split(r"[<>=!~ ]", r, maxsplit=1)[0].lower(): r.replace(" ", "") for r in requirements}


def test_conda_envs_agree_with_pyproject():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    extras = [r for name, group in project["optional-dependencies"].items() if name != "test" for r in group]
    declared = _requirement_map(project["dependencies"] + extras)
    seen = set()
    for env_file in sorted((PROJECT / "envs").glob("*.yaml")):
        env = yaml.safe_load(env_file.read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        assert "python=3.11" in env["dependencies"]
        for name, requirement in _requirement_map(pip).items():
            assert declared.get(name) == requirement, \
                f"{env_file.name}: {requirement} vs pyproject {declared.get(name)}"
            seen.add(name)
    # Everything a rule needs is in some env; snakemake (and its SLURM plugin) runs outside them.
    assert set(declared) - seen == {"snakemake", "snakemake-executor-plugin-slurm", "jsonschema"}
