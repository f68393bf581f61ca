"""The report as a PDF: the named values its text quotes (with provenance), then the Typst build."""

from __future__ import annotations

import json
from typing import Annotated

from tyro.conf import UseAppendAction, arg

from ..errors import UserError
from .stages import Stage, register_listing

# The tables and figures every report includes; the optional studies add theirs when the config runs them.
REQUIRED_FILES = {"figure1", "table1", "mcnemar", "scramble_sweep", "training_curves", "weight_distribution"}

# One table or figure per --file: the flag repeats, each time with its name and path.
RepeatedNamePath = Annotated[UseAppendAction[list[tuple[str, str]]], arg(metavar="NAME PATH")]


def paper_values(
    file: RepeatedNamePath,
    sweep: str,
    precision: str,
    dead_layers: str,
    audit_summary: str,
    manifest: str,
    inventory: str,
    histories: list[str],
    config: str,
    train_settings: str,
    project: str,
    snakemake_version: str,
    out: str,
    results: tuple[str, ...] = (),
) -> None:
    """The named values the report quotes, with the run's provenance.

    Args:
        file: a table or figure the report includes, by name (the option once per file)
        sweep: the scrambling sweep's table (summarize's sweep CSV)
        precision: the precision study's table
        dead_layers: the precision study's census of dead layers
        audit_summary: the data audit's summary
        manifest: the split's manifest.tsv
        inventory: the data's inventory (how the data came divided)
        histories: every run's training history
        config: the resolved config as JSON
        train_settings: the resolved training settings as JSON
        project: the workflow's folder (its git commit is recorded)
        snakemake_version: the Snakemake version that ran the workflow
        out: output JSON: the values
        results: more results whose code digest is checked (e.g. the runs' metrics.json; the histories always are)
    """
    from ..data.inventory import read_records
    from ..paper.provenance import provenance
    from ..paper.settings import settings_values
    from ..paper.values import collect_values, write_values

    if not histories:
        raise UserError("--histories needs at least one training history")
    settings, files = _json_option("--config", config), dict(file)
    if REQUIRED_FILES - set(files):
        raise UserError(f"paper-values needs --file for {', '.join(sorted(REQUIRED_FILES - set(files)))}")
    run = provenance(
        project=project,
        config=settings,
        manifest=manifest,
        histories=list(histories),
        snakemake_version=snakemake_version,
        results=list(results),
        files=files,
    )
    values = collect_values(
        table1=files["table1"],
        mcnemar=files["mcnemar"],
        sweep=sweep,
        precision=precision,
        dead_layers=dead_layers,
        audit_summary=audit_summary,
        manifest=manifest,
        provenance=run,
        settings=settings_values(
            config=settings,
            train=_json_option("--train-settings", train_settings),
            division={record.split for record in read_records(inventory)},
        ),
        files=files,
        feature_amounts=files.get("feature_amounts_table"),
        backbones=files.get("backbones"),
    )
    # The resolved config travels with the values: `compare` names the keys in which two runs differ.
    write_values({**values, "config": settings}, out)
    print(f"{out}: {len(values)} groups of values; provenance {values['provenance']['commit']}")


def _json_option(name: str, text: str) -> dict:
    """A JSON-object option's value; anything else is refused in one line naming the option."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{name} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UserError(f"{name} must be a JSON object, not {type(value).__name__}")
    return value


def paper(template: str, values: str, out: str) -> None:
    """Compile the report (Typst) into a PDF.

    Args:
        template: the report's Typst template (workflow/report/paper.typ)
        values: the values the report quotes (paper-values' JSON)
        out: output PDF
    """
    from ..paper.build import build_pdf

    build_pdf(template=template, values=values, out=out)
    print(f"{out}: built from {template}")


def class_counts(manifest: str, out: str) -> None:
    """The run's classes with their images per split, as a CSV table for the reports (the HTML front page).

    Args:
        manifest: the split's manifest (TSV with class and split columns), e.g. results/data/manifest.tsv
        out: output CSV: class, train, val, test, images; the last row (all classes) the totals
    """
    from ..paper.class_counts import write_class_counts

    write_class_counts(manifest, out)


STAGES = (Stage("class-counts", class_counts), Stage("paper-values", paper_values), Stage("paper", paper))


def register(subparsers) -> None:
    register_listing(subparsers, STAGES)
