"""requirements.lock satisfies pyproject.toml, and envs/*.yaml pin exactly the lock's versions."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement

from helpers import PROJECT


def _name(text):
    return re.sub(r"[-_.]+", "-", text).lower()


def _locked():
    """{name: version} of requirements.lock (each entry a ``name==version`` line with its hashes below)."""
    pins = {}
    for line in (PROJECT / "requirements.lock").read_text().splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def _declared():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in project["dependencies"] + extras]


def test_lock_satisfies_pyproject_and_has_hashes():
    locked = _locked()
    for requirement in _declared():
        name = _name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements.lock (rebuild it: scripts/lock.sh)"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock has {name}=={locked[name]}, outside pyproject's {requirement}"
        )
    entries = re.split(r"\n(?=[^\s#])", (PROJECT / "requirements.lock").read_text())
    unhashed = [e.split()[0] for e in entries if "==" in e.split()[0] and "--hash=sha256:" not in e]
    assert not unhashed, f"entries without hashes: {unhashed}"
    assert locked["torch"] == "2.14.1" and locked["torchvision"] == "0.29.1"


def test_conda_envs_pin_the_lock():
    locked = _locked()
    declared = {_name(r.name) for r in _declared()}
    seen = set()
    for env_file in sorted((PROJECT / "envs").glob("*.yaml")):
        env = yaml.safe_load(env_file.read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        assert "python=3.11" in env["dependencies"]
        for entry in pip:
            name, _, version = entry.replace(" ", "").partition("==")
            assert version, f"{env_file.name}: {entry} is not an exact pin (name==version)"
            assert locked.get(_name(name)) == version, (
                f"{env_file.name}: {entry} vs requirements.lock's {locked.get(_name(name))}"
            )
            seen.add(_name(name))
    # Everything a rule needs is in some env; snakemake (and its SLURM plugin) runs outside them, and the test
    # extra serves the suite alone.
    test_extra = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert declared - seen == {"snakemake", "snakemake-executor-plugin-slurm", "jsonschema"} | {
        _name(Requirement(r).name) for r in test_extra
    }
