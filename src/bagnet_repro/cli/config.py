"""``check-config`` and ``code-digest``: what a run would use, known before any job runs."""

from __future__ import annotations

from tyro.conf import Positional

from .stages import Stage


# The files in order, by place (`check-config a.yaml b.yaml`), as the docs and `snakemake --configfile` spell them;
# --help names them CONFIGFILE (cli/stages.py: a positional's metavar is its name).
def check_config(configfile: Positional[tuple[str, ...]] = (), base: str = "config.yaml") -> None:
    """Check config files as the workflow would merge them over config.yaml.

    Their YAML syntax (with the line), the schema and the rules across keys, as a run's start-up checks them.

    Args:
        configfile: files given to snakemake --configfile, in order
        base: the workflow's config.yaml (default: the one in the current folder)
    """
    from ..config.checks import check_config_files

    # The schema ships with the package; the base config is the workflow's own, read where the user runs.
    check_config_files(paths=list(configfile), base=base)
    print(f"config OK: {', '.join(configfile) or base} over {base}")


def code_digest() -> None:
    """The sha256 of the package's code, as each result records it (docs/environments.md: rerun on code changes)."""
    from ..files.code_digest import code_sha256

    print(code_sha256())


STAGES = (Stage("check-config", check_config), Stage("code-digest", code_digest))
