"""``check-config`` and ``code-digest``: what a run would use, known before any job runs."""

from __future__ import annotations

import argparse

from .stages import Stage, register_listing


def _check_config(args: argparse.Namespace) -> None:
    from ..config.checks import check_config_files

    # The schema ships with the package; the base config is the workflow's own, read where the user runs.
    check_config_files(paths=args.configfile, base=args.base)
    print(f"config OK: {', '.join(args.configfile) or args.base} over {args.base}")


def code_digest() -> None:
    """The sha256 of the package's code, as each result records it (docs/environments.md: rerun on code changes)."""
    from ..files.code_digest import code_sha256

    print(code_sha256())


STAGES = (Stage("code-digest", code_digest),)


def register(subparsers) -> None:
    # check-config stays an argparse parser: its config files are positional (`check-config a.yaml b.yaml`, as
    # the docs and `snakemake --configfile` spell them), and a declared stage's page names each parameter --name.
    p = subparsers.add_parser(
        "check-config",
        help="check config files (YAML syntax with line, schema, cross-key "
        "rules) as the workflow would merge them over config.yaml",
    )
    p.add_argument("configfile", nargs="*", help="files given to snakemake --configfile, in order")
    p.add_argument(
        "--base", default="config.yaml", help="the workflow's config.yaml (default: the one in the current folder)"
    )
    p.set_defaults(func=_check_config)
    register_listing(subparsers, STAGES)
