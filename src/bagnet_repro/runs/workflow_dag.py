"""The workflow as Snakemake's own API sees it: its jobs with their outputs, logs and shell commands, the
resolved config, and the metadata records of .snakemake/. Nothing here reads Snakemake's screen text."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..compute.accounting import RECORD_SUFFIX, record_path
from ..errors import UserError

PROJECT = Path(__file__).resolve().parents[3]  # the checkout this package runs from (src/bagnet_repro/runs)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


@contextlib.contextmanager
def open_workflow(
    workdir: str | os.PathLike,
    configfiles: Sequence[str] = (),
    targets: Sequence[str] = (),
    forceall: bool = False,
    snakefile: str | os.PathLike | None = None,
    config: dict | None = None,
    dag: bool = True,
) -> Iterator:
    """Snakemake's Workflow with its DAG built for ``targets`` (default target when empty), as a dry run
    builds it (``dag=False``: parsed only, for its config). A missing config file or a workflow that fails to
    parse is one line, not a traceback."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

    for name in configfiles:
        if not Path(name).is_file():
            raise UserError(f"config file not found: {name}")
    snakefile = own_snakefile(workdir, snakefile)
    if not snakefile.is_file():
        raise UserError(f"Snakefile not found: {snakefile}")
    here = os.getcwd()
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
            workflow_api = api.workflow(
                resource_settings=ResourceSettings(cores=1),
                snakefile=snakefile,
                workdir=Path(workdir).resolve(),
                config_settings=ConfigSettings(
                    configfiles=[Path(c).resolve() for c in configfiles], config=config or {}
                ),
            )
            workflow_api.dag(DAGSettings(targets=set(targets), forceall=forceall))
            workflow = workflow_api._workflow  # the parsed workflow, as the DAG API's own methods use it
            if dag:
                workflow._prepare_dag(forceall=forceall, ignore_incomplete=True, lock_warn_only=True)
                workflow._build_dag()
            yield workflow
    except SystemExit as exc:  # the Snakefile's own config checks end with sys.exit("error: ...")
        message = str(exc.code) if exc.code not in (None, 0, 1) else "the workflow did not parse"
        raise UserError(message.removeprefix("error: ").splitlines()[0]) from None
    except UserError:
        raise
    except Exception as exc:  # Snakemake's WorkflowError, MissingInputException and the like
        raise UserError(f"snakemake: {_first_line(exc)}") from None
    finally:
        os.chdir(here)


def job_files(job, logs: bool = True) -> list[str]:
    """The plain files a job writes (directory outputs are data folders and do not travel); with ``logs`` also
    its logs and its account of what it cost: its Snakemake benchmark file and the compute record beside each
    output (``compute/accounting.py``; only those that exist are ever read)."""
    from snakemake.io import is_flagged

    files = [str(f) for f in job.output if not is_flagged(f, "directory")]
    if not logs:
        return files
    benchmark = [str(job.benchmark)] if job.benchmark else []
    records = [record_path(f).as_posix() for f in files if not f.endswith(RECORD_SUFFIX)]
    return files + [str(f) for f in job.log] + benchmark + records


def describe_job(job) -> dict:
    """Rule, outputs, logs and the shell command a job runs, as Snakemake formatted it."""
    from snakemake.io import is_flagged

    return {
        "rule": job.rule.name,
        "output": [str(f) for f in job.output],
        "directories": [str(f) for f in job.output if is_flagged(f, "directory")],
        "log": [str(f) for f in job.log],
        "command": job.shellcmd,
    }


def planned_jobs(workflow) -> list:
    """The jobs the dry run would run, in an order that respects their dependencies."""
    needrun = set(workflow.dag.needrun_jobs())
    return [job for level in workflow.dag.toposorted() for job in level if job in needrun]


def planned_rules(
    workdir: str | os.PathLike, configfiles: Sequence[str] = (), snakefile: str | os.PathLike | None = None
) -> list[str]:
    """The rule names of the jobs a dry run in ``workdir`` would run, sorted (empty: nothing to do)."""
    with open_workflow(workdir, configfiles, snakefile=snakefile) as workflow:
        return sorted(job.rule.name for job in planned_jobs(workflow))


def metadata_records(workflow, outputs: set[str]) -> dict[str, dict]:
    """Snakemake's metadata record of each of ``outputs`` that has one (rule, input, params, shell command,
    code, software hash, input checksums), keyed by the output's path."""
    records = {}
    for job in workflow.dag.jobs:
        for f in job.output:
            if str(f) in outputs and (record := workflow.persistence.metadata(f)) is not None:
                records[str(f)] = record.model_dump(mode="json")
    return records


def _file_persistence(workdir: str | os.PathLike):
    from snakemake.persistence.file import FilePersistence

    return FilePersistence(path=Path(workdir).resolve() / ".snakemake")


def read_metadata_records(workdir: str | os.PathLike, keys: list[str]) -> dict[str, dict | None]:
    """The checkout's own record of each of ``keys`` in .snakemake/metadata (None: it has none), as Snakemake's
    file backend stores them: what an import puts back when it takes itself back."""
    persistence = _file_persistence(workdir)
    found = {}
    for key in keys:
        record = persistence._read_record(key)
        found[key] = None if record is None else record.model_dump(mode="json")
    return found


def write_metadata_record(workdir: str | os.PathLike, key: str, record: dict | None) -> None:
    """Write ``key``'s ``record`` into the checkout's .snakemake/metadata as Snakemake's file backend stores it; a
    record of None deletes the key's record (an imported output made without Snakemake). The output is unmarked
    incomplete: its file is whole."""
    from snakemake.persistence import MetadataRecord

    persistence = _file_persistence(workdir)
    if record is None:
        persistence._delete_record(key)
    else:
        persistence._write_record(key, MetadataRecord(**record))  # the backend's own key encoding
    persistence._unmark_incomplete(key)


def incomplete_outputs(workflow) -> set[str]:
    """The outputs Snakemake has marked incomplete: their job is running, or failed or was killed."""
    keys = [str(f) for job in workflow.dag.jobs for f in job.output]
    return set(workflow.persistence._filter_incomplete_keys(keys))


def own_snakefile(workdir: str | os.PathLike, snakefile: str | os.PathLike | None = None) -> Path:
    """The Snakefile of the run's checkout: the one given, else the working folder's own, else the checkout
    this package runs from (a run made apart from its code)."""
    if snakefile is not None:
        return Path(snakefile).resolve()
    here = Path(workdir).resolve() / "Snakefile"
    return here if here.is_file() else PROJECT / "Snakefile"
