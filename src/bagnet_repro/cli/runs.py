"""A finished run that travels: ``export-run`` packs it with its manifest, ``import-run`` checks and places it."""

from __future__ import annotations

import argparse
import sys
import time


def _cmd_export_run(args: argparse.Namespace) -> None:
    from ..runs.export import export_run

    start = time.monotonic()
    manifest = export_run(
        args.archive,
        args.directory,
        args.configfile,
        weights=not args.no_weights,
        snakefile=args.snakefile,
        listing=args.files_from,
        unfinished=args.unfinished,
    )
    size = sum(entry["size"] for entry in manifest["files"])
    print(
        f"{args.archive}: {len(manifest['files'])} files ({size / 1e6:.1f} MB before compression), "
        f"{len(manifest['records'])} Snakemake records, in {time.monotonic() - start:.1f} s"
    )


def _cmd_import_run(args: argparse.Namespace) -> None:
    from ..runs.importing import import_run

    start = time.monotonic()
    summary = import_run(args.archive, args.directory, args.configfile, force=args.force, snakefile=args.snakefile)
    if summary["warnings"]:
        print(
            f"warning: this checkout differs from the exporting one: {'; '.join(summary['warnings'])}", file=sys.stderr
        )
    replaced = f", replaced {len(summary['replaced'])} differing files (--force)" if summary["replaced"] else ""
    print(
        f"{args.archive}: imported {summary['files']} files ({summary['bytes'] / 1e6:.1f} MB), "
        f"{summary['records']} Snakemake records{replaced}, in {time.monotonic() - start:.1f} s"
    )


def _cmd_compare(args: argparse.Namespace) -> None:
    from ..runs.compare import compare_runs, describe, write_comparison

    comparison = compare_runs(args.runs)
    for name, table in comparison.tables().items():
        print(f"## {name}\n")
        print(table.to_markdown(index=False) if len(table) else "(none)")
        print()
    for line in describe(comparison):
        print(line)
    if args.out:
        for path in write_comparison(comparison, args.out):
            print(f"wrote {path}")


def _cmd_variants_table(args: argparse.Namespace) -> None:
    import json

    from ..runs.variants import write_variants_table

    variants = [(folder, json.loads(values)) for folder, values in args.variant]
    write_variants_table(
        variants, args.csv, args.md, args.tests, args.figure, args.figure_pdf, args.template, args.values, args.pdf
    )
    print(f"{args.csv}: {len(variants)} variants")


SNAKEFILE_HELP = (
    "the run's workflow (default: the working folder's Snakefile, else that of the checkout bagnet-repro runs from)"
)


def register(sub) -> None:
    p = sub.add_parser("export-run", help="pack a finished run (results, report outputs, logs) into a .tar.gz")
    p.add_argument("archive", help="the .tar.gz to write")
    p.add_argument("--no-weights", action="store_true", help="leave the trained weights (*.pt) out")
    p.add_argument("--configfile", nargs="+", default=[], help="the config files the run was made with")
    p.add_argument("--directory", default=".", help="the run's working folder (default: here)")
    p.add_argument("--snakefile", default=None, help=SNAKEFILE_HELP)
    p.add_argument(
        "--unfinished",
        action="store_true",
        help="export the finished jobs of a run that is going or failed (outputs marked incomplete and their "
        "logs are left out)",
    )
    p.add_argument(
        "--files-from",
        default=None,
        help="export these files (a JSON list written by scripts/gpu_piece.py plan), without asking Snakemake",
    )
    p.set_defaults(func=_cmd_export_run)
    p = sub.add_parser("import-run", help="check a run archive against its manifest, then put it in place")
    p.add_argument("archive")
    p.add_argument("--configfile", nargs="+", default=[], help="the config files this checkout runs with")
    p.add_argument("--directory", default=".", help="the working folder to import into (default: here)")
    p.add_argument("--force", action="store_true", help="replace files here that differ from the archive's")
    p.add_argument("--snakefile", default=None, help=SNAKEFILE_HELP)
    p.set_defaults(func=_cmd_import_run)
    p = sub.add_parser(
        "compare",
        help="finished runs side by side: config keys that differ, Table 1, compute, paired tests between runs",
    )
    p.add_argument("runs", nargs="+", help="run folders or run archives (.tar.gz of export-run), two or more")
    p.add_argument(
        "--out", default=None, help="also write the tables there as CSV and Markdown (compare_<table>.csv/.md)"
    )
    p.set_defaults(func=_cmd_compare)
    p = sub.add_parser("variants-table", help="the config variants side by side, with paired tests between them")
    p.add_argument(
        "--variant",
        nargs=2,
        action="append",
        required=True,
        metavar=("FOLDER", "VALUES"),
        help="a variant's folder and its varied keys' values (a JSON object); repeat for each variant",
    )
    p.add_argument("--csv", required=True, help="the table, one row per variant and network")
    p.add_argument("--md", required=True, help="the table, the tests and their sentences in Markdown")
    p.add_argument("--tests", required=True, help="the paired tests between variants (CSV)")
    p.add_argument("--figure", required=True, help="accuracy against each varied key (PNG)")
    p.add_argument("--figure-pdf", required=True, help="the same figure as PDF")
    p.add_argument("--template", default=None, help="the variants' Typst template (workflow/report/variants.typ)")
    p.add_argument("--values", default=None, help="the values the PDF prints (JSON, written here)")
    p.add_argument("--pdf", default=None, help="the variants' PDF, built from --template and --values")
    p.set_defaults(func=_cmd_variants_table)
