"""A finished run that travels: ``export-run`` packs it with its manifest, ``import-run`` checks and places it."""

from __future__ import annotations

import sys
import time
from typing import Annotated

from tyro.conf import Positional, UseAppendAction, arg

from ..errors import UserError
from .arguments import json_object
from .stages import Stage

# One variant per --variant: the flag repeats, each time with its folder and its values.
RepeatedFolderValues = Annotated[UseAppendAction[list[tuple[str, str]]], arg(metavar="FOLDER VALUES")]


def export_run(
    archive: Positional[str],
    weights: bool = True,
    configfile: tuple[str, ...] = (),
    directory: str = ".",
    snakefile: str | None = None,
    unfinished: bool = False,
    files_from: str | None = None,
) -> None:
    """Pack a finished run (results, report outputs, logs) into a .tar.gz.

    Args:
        archive: the .tar.gz to write
        weights: pack the trained weights (*.pt); --no-weights leaves them out
        configfile: the config files the run was made with
        directory: the run's working folder
        snakefile: the run's workflow; None: the working folder's Snakefile, else that of the checkout bagnet-repro
            runs from
        unfinished: export the finished jobs of a run that is going or failed (outputs marked incomplete and their
            logs are left out)
        files_from: export these files (a JSON list written by scripts/gpu_piece.py plan), without asking Snakemake
    """
    from ..runs.export import export_run as export

    start = time.monotonic()
    manifest = export(
        archive,
        directory,
        configfile,
        weights=weights,
        snakefile=snakefile,
        listing=files_from,
        unfinished=unfinished,
    )
    size = sum(entry["size"] for entry in manifest["files"])
    print(
        f"{archive}: {len(manifest['files'])} files ({size / 1e6:.1f} MB before compression), "
        f"{len(manifest['records'])} Snakemake records, in {time.monotonic() - start:.1f} s"
    )


def import_run(
    archive: Positional[str],
    configfile: tuple[str, ...] = (),
    directory: str = ".",
    force: bool = False,
    snakefile: str | None = None,
) -> None:
    """Check a run archive against its manifest, then put it in place.

    Args:
        archive: the run archive (.tar.gz of export-run)
        configfile: the config files this checkout runs with
        directory: the working folder to import into
        force: replace files here that differ from the archive's
        snakefile: the run's workflow; None: the working folder's Snakefile, else that of the checkout bagnet-repro
            runs from
    """
    from ..runs.importing import import_run as place

    start = time.monotonic()
    summary = place(archive, directory, configfile, force=force, snakefile=snakefile)
    if summary["warnings"]:
        print(
            f"warning: this checkout differs from the exporting one: {'; '.join(summary['warnings'])}", file=sys.stderr
        )
    replaced = f", replaced {len(summary['replaced'])} differing files (--force)" if summary["replaced"] else ""
    print(
        f"{archive}: imported {summary['files']} files ({summary['bytes'] / 1e6:.1f} MB), "
        f"{summary['records']} Snakemake records{replaced}, in {time.monotonic() - start:.1f} s"
    )


def compare(runs: Positional[list[str]], out: str | None = None) -> None:
    """Finished runs side by side: config keys that differ, Table 1, compute, paired tests between runs.

    Args:
        runs: run folders or run archives (.tar.gz of export-run), two or more
        out: also write the tables there as CSV and Markdown (compare_<table>.csv/.md)
    """
    from ..runs.compare import compare_runs, describe, write_comparison

    if not runs:
        raise UserError("compare needs two or more runs (folders or archives)")
    comparison = compare_runs(runs)
    for name, table in comparison.tables().items():
        print(f"## {name}\n")
        print(table.to_markdown(index=False) if len(table) else "(none)")
        print()
    for line in describe(comparison):
        print(line)
    if out:
        for path in write_comparison(comparison, out):
            print(f"wrote {path}")


def variants_table(
    variant: RepeatedFolderValues,
    csv: str,
    md: str,
    tests: str,
    figure: str,
    figure_pdf: str,
    template: str | None = None,
    values: str | None = None,
    pdf: str | None = None,
) -> None:
    """The config variants side by side, with paired tests between them.

    Args:
        variant: a variant's folder and its varied keys' values (a JSON object); the option once per variant
        csv: the table, one row per variant and network
        md: the table, the tests and their sentences in Markdown
        tests: the paired tests between variants (CSV)
        figure: accuracy against each varied key (PNG)
        figure_pdf: the same figure as PDF
        template: the variants' Typst template (workflow/report/variants.typ)
        values: the values the PDF prints (JSON, written here)
        pdf: the variants' PDF, built from --template and --values
    """
    from ..runs.variants import write_variants_table

    if not variant:
        raise UserError("variants-table needs --variant FOLDER VALUES, once per variant")
    variants = [(folder, json_object(f"--variant {folder}: VALUES", text)) for folder, text in variant]
    write_variants_table(variants, csv, md, tests, figure, figure_pdf, template, values, pdf)
    print(f"{csv}: {len(variants)} variants")


STAGES = (
    Stage("export-run", export_run),
    Stage("import-run", import_run),
    Stage("compare", compare),
    Stage("variants-table", variants_table),
)
