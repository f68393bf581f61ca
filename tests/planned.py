"""What the workflow plans, read from Snakemake's structured outputs rather than from free text.

``summary``: the rows of ``snakemake --summary`` (a TSV of every output file, its rule and plan).
``dry_run_jobs``: the jobs of a dry run, each as its ``key: value`` lines (rule, wildcards, resources).
``environment_without_heavy_packages``: a Snakemake-only install, for planning without torch and friends.
``user_project``: another project's folder that uses this workflow as a module, with ``run_in`` to run it.
``parsed_rules``: the workflow's rules as Snakemake's API parses them, for lists the tests would otherwise type."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from helpers import PROJECT, copy_checkout, run_snakemake


def _checked(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def summary(workdir, *args: str, **kwargs) -> list[dict]:
    """One dict per output file (output_file, rule, status, plan, ...) of ``snakemake --summary``."""
    text = _checked(run_snakemake(workdir, "--summary", *args, **kwargs))
    header = text.index("output_file\t")
    return list(csv.DictReader(io.StringIO(text[header:]), delimiter="\t"))


def _mapping(text: str) -> dict:
    """``a=1, b=x`` as {'a': '1', 'b': 'x'}."""
    pairs = (item.split("=", 1) for item in text.split(", ") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def dry_run_jobs(workdir, *args: str, runner=run_snakemake, **kwargs) -> list[dict]:
    """The jobs of ``snakemake -n``: {'rule': name, 'wildcards': {...}, 'resources': {...}, 'threads': n}."""
    jobs = []
    for line in _checked(runner(workdir, "-n", *args, **kwargs)).splitlines():
        if line.startswith(("rule ", "localrule ")) and line.endswith(":"):
            jobs.append({"rule": line.split()[1].rstrip(":"), "wildcards": {}, "resources": {}})
        elif jobs and line.startswith("    ") and ": " in line:
            key, value = line.strip().split(": ", 1)
            jobs[-1][key] = _mapping(value) if key in ("wildcards", "resources") else value
    return [job for job in jobs if job["rule"] not in ("all", "everything")]


MODULE_SNAKEFILE = """configfile: "config/config.yaml"


module bagnet:
    snakefile:
        {snakefile!r}
    config:
        config


use rule * from bagnet
{extra}"""


def user_project(folder: Path, config_text: str, extra: str = "", snakefile: Path | None = None) -> Path:
    """``folder`` as another project that uses this workflow as a module (the layout snakedeploy writes):
    ``config/config.yaml`` holding ``config_text``, ``workflow/Snakefile`` with the module, ``extra`` after it."""
    (folder / "config").mkdir(parents=True, exist_ok=True)
    (folder / "config" / "config.yaml").write_text(config_text)
    (folder / "workflow").mkdir(exist_ok=True)
    module = MODULE_SNAKEFILE.format(snakefile=str(snakefile or PROJECT / "workflow" / "Snakefile"), extra=extra)
    (folder / "workflow" / "Snakefile").write_text(module)
    return folder


def run_in(folder: Path, *args: str, timeout: int = 1500, env: dict | None = None) -> subprocess.CompletedProcess:
    """``snakemake ARGS`` typed in ``folder`` as its user would: its own Snakefile, no path to this checkout,
    and nothing of this checkout on PYTHONPATH."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONPATH", None)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def parsed_rules(workdir: Path, config: dict | None = None) -> dict:
    """Name -> Snakemake's Rule of every rule of the workflow parsed with ``config`` over config.yaml (no DAG)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    here = os.getcwd()
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
            workflow = api.workflow(
                resource_settings=ResourceSettings(cores=1),
                snakefile=PROJECT / "Snakefile",
                workdir=Path(workdir),
                config_settings=ConfigSettings(config=config or {}),
            )
            workflow.dag()  # parses the Snakefile
            return {rule.name: rule for rule in workflow._workflow.rules}
    finally:
        os.chdir(here)


def device_rules(workdir: Path) -> set[str]:
    """The rules whose jobs run on compute.device or pretrain.device (a ``device`` parameter): those that ask
    for GPUs and record benchmarks."""
    # Snakemake's Namedlist: `in` looks at its values, keys() at its names.
    return {name for name, rule in parsed_rules(workdir).items() if "device" in rule.params.keys()}  # noqa: SIM118


HEAVY = ("torch", "torchvision", "scipy", "sklearn", "matplotlib", "PIL")
BLOCKER = f'''
import sys

class _Unimportable:
    """Stands for an environment where these packages are not installed."""
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {HEAVY!r}:
            raise ImportError(f"{{name}} is not installed here (tests/planned.py)")
        return None

sys.meta_path.insert(0, _Unimportable())
'''


def environment_without_heavy_packages(folder) -> dict:
    """The environment of a Snakemake install without HEAVY: a sitecustomize in ``folder`` refuses them."""
    site = folder / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(PROJECT / "src")]))


def tagged_repository(folder: Path, tag: str) -> Path:
    """A git repository in ``folder`` of the checkout's tracked files, committed and tagged ``tag``: what
    `git clone --branch TAG` leaves."""
    folder.mkdir(parents=True)
    copy_checkout(folder, (".",))
    for args in (
        ("init", "-q"),
        ("add", "-A"),
        ("-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-qm", "release"),
        ("tag", tag),
    ):
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)
    return folder
