"""``check-config``: config files checked as the workflow would merge them, before any job runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def _check_config(args: argparse.Namespace) -> None:
    from ..config_checks import check_config_files

    project = Path(__file__).resolve().parents[3]
    check_config_files(paths=args.configfile, base=project / "config.yaml",
                       schema_path=project / "workflow" / "schemas" / "config.schema.yaml")
    print(f"config OK: {', '.join(args.configfile) or 'config.yaml'} over config.yaml")


def _code_digest(args: argparse.Namespace) -> None:
    from ..code_digest import code_sha256

    print(code_sha256())


def register(subparsers) -> None:
    p = subparsers.add_parser("check-config", help="check config files (YAML syntax with line, schema, cross-key "
                              "rules) as the workflow would merge them over config.yaml")
    p.add_argument("configfile", nargs="*", help="files given to snakemake --configfile, in order")
    p.set_defaults(func=_check_config)

    p = subparsers.add_parser("code-digest", help="sha256 of the package's code, as each result records it "
                              "(docs/environments.md: rerun on code changes)")
    p.set_defaults(func=_code_digest)
