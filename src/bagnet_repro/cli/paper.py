"""The report as a PDF: the named values its text quotes (with provenance), then the Typst build."""

from __future__ import annotations

from typing import Annotated

from tyro.conf import UseAppendAction, arg

from ..errors import UserError
from .arguments import json_object
from .stages import Stage

# The tables and figures every report includes; the optional studies add theirs when the config runs them.
REQUIRED_FILES = {"figure1", "table1", "mcnemar", "training_curves"}
# What the report reads of the studies that run unless the config says false (config/studies.py): its options
# and its files (--file NAME).
STUDY_INPUTS = {
    "sweep": (("--sweep",), ("scramble_sweep",)),
    "precision": (("--precision", "--dead-layers"), ("weight_distribution",)),
}

# One table or figure per --file: the flag repeats, each time with its name and path.
RepeatedNamePath = Annotated[UseAppendAction[list[tuple[str, str]]], arg(metavar="NAME PATH")]


def paper_values(
    file: RepeatedNamePath,
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
    sweep: str | None = None,
    precision: str | None = None,
    dead_layers: str | None = None,
) -> None:
    """The named values the report quotes, with the run's provenance.

    Args:
        file: a table or figure the report includes, by name (the option once per file)
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
        sweep: the scrambling sweep's table (summarize's sweep CSV); none when the config has studies.sweep: false
        precision: the precision study's table; none when the config has studies.precision: false
        dead_layers: the precision study's census of dead layers; none with studies.precision: false
    """
    from ..config.studies import switched_off
    from ..data.inventory import read_records
    from ..paper.provenance import provenance
    from ..paper.settings import settings_values
    from ..paper.values import collect_values, write_values

    if not histories:
        raise UserError("--histories needs at least one training history")
    settings, files = json_object("--config", config), dict(file)
    if REQUIRED_FILES - set(files):
        raise UserError(f"paper-values needs --file for {', '.join(sorted(REQUIRED_FILES - set(files)))}")
    _check_study_inputs(
        switched_off(settings), {"--sweep": sweep, "--precision": precision, "--dead-layers": dead_layers}, files
    )
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
        audit_summary=audit_summary,
        manifest=manifest,
        provenance=run,
        settings=settings_values(
            config=settings,
            train=json_object("--train-settings", train_settings),
            division={record.split for record in read_records(inventory)},
        ),
        files=files,
        feature_amounts=files.get("feature_amounts_table"),
        backbones=files.get("backbones"),
        sweep=sweep,
        precision=(precision, dead_layers) if precision and dead_layers else None,
    )
    # The resolved config travels with the values: `compare` names the keys in which two runs differ.
    write_values({**values, "config": settings}, out)
    print(f"{out}: {len(values)} groups of values; provenance {values['provenance']['commit']}")


def _check_study_inputs(off: tuple[str, ...], options: dict[str, str | None], files: dict[str, str]) -> None:
    """A study the config runs needs its options and files, one it switched off (``off``) takes none, so the
    report never quotes a study the run did not make nor leaves out one it did; else one line naming them."""
    for study, (names, file_names) in STUDY_INPUTS.items():
        given = [name for name in names if options[name] is not None] + [
            f"--file {name}" for name in file_names if name in files
        ]
        if study in off and given:
            raise UserError(f"paper-values: the config has studies.{study}: false, so it takes no {', '.join(given)}")
        wanted = list(names) + [f"--file {name}" for name in file_names]
        missing = [name for name in wanted if name not in given]
        if study not in off and missing:
            raise UserError(
                f"paper-values needs {', '.join(missing)}: the config runs the {study} study (studies.{study})"
            )


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
