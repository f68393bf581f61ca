"""The report as a PDF: the named values its text quotes (with provenance), then the Typst build."""

from __future__ import annotations

import argparse
import json

from ..errors import UserError

# The tables and figures every report includes; the optional studies add theirs when the config runs them.
REQUIRED_FILES = {"figure1", "table1", "mcnemar", "scramble_sweep", "training_curves", "weight_distribution"}


def _paper_values(args: argparse.Namespace) -> None:
    from ..data.inventory import read_records
    from ..paper.provenance import provenance
    from ..paper.settings import settings_values
    from ..paper.values import collect_values, write_values

    config, files = json.loads(args.config), dict(args.file)
    if REQUIRED_FILES - set(files):
        raise UserError(f"paper-values needs --file for {', '.join(sorted(REQUIRED_FILES - set(files)))}")
    run = provenance(
        project=args.project,
        config=config,
        manifest=args.manifest,
        histories=args.histories,
        snakemake_version=args.snakemake_version,
        results=args.results,
        files=files,
    )
    values = collect_values(
        table1=files["table1"],
        mcnemar=files["mcnemar"],
        sweep=args.sweep,
        precision=args.precision,
        dead_layers=args.dead_layers,
        audit_summary=args.audit_summary,
        manifest=args.manifest,
        provenance=run,
        settings=settings_values(
            config=config,
            train=json.loads(args.train_settings),
            division={record.split for record in read_records(args.inventory)},
        ),
        files=files,
        feature_amounts=files.get("feature_amounts_table"),
        backbones=files.get("backbones"),
    )
    # The resolved config travels with the values: `compare` names the keys in which two runs differ.
    write_values({**values, "config": config}, args.out)
    print(f"{args.out}: {len(values)} groups of values; provenance {values['provenance']['commit']}")


def _paper(args: argparse.Namespace) -> None:
    from ..paper.build import build_pdf

    build_pdf(template=args.template, values=args.values, out=args.out)
    print(f"{args.out}: built from {args.template}")


def register(subparsers) -> None:
    p = subparsers.add_parser("paper-values", help="the named values the report quotes, with the run's provenance")
    p.add_argument(
        "--file",
        nargs=2,
        action="append",
        metavar=("NAME", "PATH"),
        required=True,
        help="a table or figure the report includes, by name",
    )
    p.add_argument("--sweep", required=True)
    p.add_argument("--precision", required=True)
    p.add_argument("--dead-layers", required=True)
    p.add_argument("--audit-summary", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--inventory", required=True, help="the data's inventory (how the data came divided)")
    p.add_argument("--histories", nargs="+", required=True)
    p.add_argument(
        "--results",
        nargs="*",
        default=[],
        help="more results whose code digest is checked (e.g. the runs' metrics.json; the histories always are)",
    )
    p.add_argument("--config", required=True, help="the resolved config as JSON")
    p.add_argument("--train-settings", required=True, help="the resolved training settings as JSON")
    p.add_argument("--project", required=True, help="the workflow's folder (its git commit is recorded)")
    p.add_argument("--snakemake-version", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_paper_values)

    p = subparsers.add_parser("paper", help="compile the report (Typst) into a PDF")
    p.add_argument("--template", required=True)
    p.add_argument("--values", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_paper)
