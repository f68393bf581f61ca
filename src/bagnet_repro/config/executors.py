"""Whether the executor Snakemake was started with can submit from this host: a SLURM run (``--executor slurm``,
or a profile that names it) on a host without SLURM's commands stops at start-up in one line, before any
submission, instead of in the plugin's ``No such file or directory: 'sacct'`` (torch-free: the Snakefile runs it).

Snakemake parses the Snakefile before it sets up its executor, so the executor is read from the command line
and the profile it names, as Snakemake reads them."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

from ..errors import UserError
from .environment import GPU_CHECK, switch

SLURM_COMMANDS = ("sbatch", "squeue", "scancel")
_DRY_RUN = ("--dry-run", "--dryrun", "--just-print", "-n")


def _value(argv: Sequence[str], *names: str) -> str | None:
    """The value of the last of ``names`` in ``argv`` (``--name value``, ``--name=value``, ``-eVALUE``)."""
    found = None
    for index, token in enumerate(argv):
        for name in names:
            if token == name and index + 1 < len(argv):
                found = argv[index + 1]
            elif name.startswith("--") and token.startswith(name + "="):
                found = token.split("=", 1)[1]
            elif not name.startswith("--") and token.startswith(name) and len(token) > len(name):
                found = token[len(name) :]
    return found


def dry_run(argv: Sequence[str]) -> bool:
    return any(token in _DRY_RUN or re.fullmatch(r"-[a-mo-zA-Z]*n[a-zA-Z]*", token) for token in argv)


def _profile_folder(name: str, env: Mapping[str, str]) -> Path | None:
    """A profile by path (from the folder Snakemake was started in: it has moved into --directory since), or by
    name in Snakemake's user and system profile folders."""
    places = [Path(env.get("PWD", os.getcwd())) / name, Path(name)]
    if os.sep not in name:
        config_home = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
        places += [config_home / "snakemake" / name, Path("/etc/xdg/snakemake") / name]
    return next((place for place in places if place.is_dir()), None)


def _profile_executor(name: str, env: Mapping[str, str]) -> str | None:
    folder = _profile_folder(name, env)
    for file in ("config.v8+.yaml", "config.yaml"):
        if folder is not None and (folder / file).is_file():
            try:
                settings = yaml.safe_load((folder / file).read_text()) or {}
            except yaml.YAMLError:
                return None  # Snakemake itself names a broken profile
            return settings.get("executor") if isinstance(settings, dict) else None
    return None


def chosen_executor(argv: Sequence[str], env: Mapping[str, str]) -> tuple[str | None, str]:
    """The executor asked for and where it was asked (the option, or the profile)."""
    executor = _value(argv, "--executor", "-e")
    if executor:
        return executor, f"--executor {executor}"
    profile = _value(argv, "--profile") or env.get("SNAKEMAKE_PROFILE")
    if profile:
        return _profile_executor(profile, env), f"--profile {profile}"
    return None, ""


def missing_slurm(
    argv: Sequence[str], env: Mapping[str, str] | None = None, which: Callable[[str], str | None] = shutil.which
) -> str | None:
    """Why this SLURM run cannot submit from here (SLURM's commands missing from PATH), or None."""
    env = os.environ if env is None else env
    executor, where = chosen_executor(argv, env)
    if executor != "slurm" or dry_run(argv):
        return None
    missing = [command for command in SLURM_COMMANDS if which(command) is None]
    if not missing:
        return None
    return (
        f"the SLURM executor ({where}) needs SLURM's commands, and {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not on PATH on this host: run it on the cluster's login node, "
        "or leave the SLURM profile out to run here"
    )


LOCAL_EXECUTORS = (None, "local", "dryrun", "touch")


def missing_device(
    device: str,
    argv: Sequence[str],
    gpu_count: Callable[[], int],
    env: Mapping[str, str] | None = None,
) -> str | None:
    """Why ``compute.device`` cannot exist where the jobs run, or None. Jobs run here (no executor, or the local
    one): a ``cuda:N`` beyond this machine's GPUs (``gpu_count``, asked of the driver without starting CUDA) is
    refused at start-up, not at the first training job. On a cluster executor the job's node is not this host,
    so its own device check decides; with the GPU check off (``BAGNET_REPRO_GPU_CHECK=off``) a job may run on
    the CPU whatever it was given."""
    env = os.environ if env is None else env
    index = re.fullmatch(r"cuda:([0-9]+)", device)
    executor, _ = chosen_executor(argv, env)
    if index is None or executor not in LOCAL_EXECUTORS:
        return None
    try:
        if not switch(GPU_CHECK, env):
            return None
    except UserError as exc:
        return str(exc)
    count = gpu_count()
    if int(index.group(1)) < count:
        return None
    here = f"cuda:0 to cuda:{count - 1}" if count else "none"
    return (
        f"config error at 'compute.device': {device} does not exist on this machine, where the jobs run "
        f"({count} GPU(s): {here}); name one of them, cuda, auto or cpu (on a cluster profile the job's node "
        "decides)"
    )
