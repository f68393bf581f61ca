"""Export a finished run into one .tar.gz: every existing output and log of the workflow that travels, with a
manifest (sha256, size and time of each file, Snakemake's records, the provenance) as its first member.

A run that is going (Snakemake's lock held by a live process) or that left outputs marked incomplete is refused
unless ``unfinished=True``; incomplete outputs and their jobs' logs are never packed. The workflow read is the
run's own checkout's (its working folder's Snakefile, or the one given), and its commit is the one recorded."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import UserError
from ..files.atomic import atomic_path
from . import manifest as mf
from .running import running_snakemake
from .workflow_dag import PROJECT, incomplete_outputs, job_files, metadata_records, open_workflow, own_snakefile


def _progress(total: int, what: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=what, disable=None, leave=False)


def _snakemake_version() -> str:
    try:
        import snakemake
    except ImportError:  # a piece exported on a machine without Snakemake
        return "not installed"
    return snakemake.__version__


def check_archive_path(archive: Path) -> None:
    """The archive's own path, before any file of the run is read: a .tar.gz, not a folder, in a folder that
    exists."""
    if not archive.name.endswith(".tar.gz"):
        raise UserError(f"{archive}: a run archive is a .tar.gz")
    if archive.is_dir():
        raise UserError(f"{archive} is a folder; name the .tar.gz file to write")
    folder = archive.parent if str(archive.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{archive}: its folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{archive}: its folder {folder} cannot be written")


def _unaccounted(workdir: Path, workflow) -> list[str]:
    """Files under results/ that no job of ``workflow`` writes (outside its data folders and what never
    travels): the outputs of a run made with other config files."""
    files = {name for job in workflow.dag.jobs for name in job_files(job)}
    folders = tuple(
        str(f).rstrip("/") + "/" for job in workflow.dag.jobs for f in job.output if Path(workdir / str(f)).is_dir()
    )
    found = []
    for folder, dirs, names in os.walk(workdir / "results"):
        dirs.sort()
        for name in sorted(names):
            relative = Path(folder, name).relative_to(workdir).as_posix()
            if relative not in files and not relative.startswith(mf.LEFT_OUT + folders):
                found.append(relative)
    return found


def _refuse_unfinished(workdir: Path, incomplete: list[str]) -> None:
    going = running_snakemake(workdir)
    if going is not None:
        raise UserError(
            f"{workdir}: a Snakemake run is going here (process {going} holds its lock); export when it has "
            "finished, or pass --unfinished to pack only its finished jobs"
        )
    if incomplete:
        raise UserError(
            f"{workdir}: {len(incomplete)} outputs are marked incomplete by Snakemake (first: {incomplete[0]}; a job "
            "failed or was killed); rerun snakemake, or pass --unfinished to pack only the finished jobs"
        )


def _from_workflow(workdir: Path, configfiles, weights: bool, snakefile, unfinished: bool):
    with open_workflow(workdir, configfiles, snakefile=own_snakefile(workdir, snakefile)) as workflow:
        incomplete = incomplete_outputs(workflow)
        if not unfinished:
            _refuse_unfinished(workdir, sorted(incomplete))
        if not configfiles:
            stray = _unaccounted(workdir, workflow)
            if stray:
                raise UserError(
                    f"{len(stray)} files under results/ are not outputs of this workflow with its default config "
                    f"(first: {', '.join(stray[:3])}); pass the run's config files with --configfile"
                )
        names = sorted(
            {
                name
                for job in workflow.dag.jobs
                if not any(str(f) in incomplete for f in job.output)
                for name in job_files(job)
                if mf.travels(name, weights) and (workdir / name).is_file()
            }
        )
        records = metadata_records(workflow, set(names))
        config = json.loads(json.dumps(workflow.config, default=str))
        return names, records, config, Path(workflow.basedir)


def _from_listing(workdir: Path, listing, weights: bool):
    try:
        planned = json.loads(Path(listing).read_text())
        listed, config = planned["files"], planned["config"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{listing}: not a file list of scripts/gpu_piece.py plan ({exc})") from None
    names = sorted(name for name in listed if mf.travels(name, weights))
    missing = [name for name in names if not (workdir / name).is_file()]
    if missing:
        raise UserError(f"{workdir / missing[0]} is missing ({len(missing)} files of {listing}); did the piece finish?")
    return names, {}, config, PROJECT


def export_run(
    archive: str | os.PathLike,
    workdir: str | os.PathLike = ".",
    configfiles: Sequence[str] = (),
    weights: bool = True,
    snakefile: str | os.PathLike | None = None,
    listing: str | os.PathLike | None = None,
    unfinished: bool = False,
) -> dict:
    """Write the run in ``workdir`` into ``archive``; returns the manifest. With ``listing`` (a JSON file of
    ``files`` and the resolved ``config``, as scripts/gpu_piece.py plans them) the files are those, and
    Snakemake is not needed."""
    archive, workdir = Path(archive), Path(workdir).resolve()
    check_archive_path(archive)
    if listing is not None:
        names, records, config, project = _from_listing(workdir, listing, weights)
    else:
        names, records, config, project = _from_workflow(workdir, configfiles, weights, snakefile, unfinished)
    if not names:
        raise UserError(f"{workdir}: no finished outputs of the workflow to export (run snakemake first)")
    links = [name for name in names if (workdir / name).is_symlink()]
    if links:
        raise UserError(f"{workdir / links[0]} is a link; an archive holds plain files only")
    total = sum((workdir / name).stat().st_size for name in names)
    with _progress(total, "checksums") as bar:
        files = [mf.file_entry(workdir, name, bar) for name in names]
    manifest = {
        "format": mf.FORMAT,
        "files": files,
        "records": records,
        "provenance": mf.run_provenance(project, workdir, config, _snakemake_version()),
    }
    _write(archive, workdir, manifest, total)
    return manifest


def _write(archive: Path, workdir: Path, manifest: dict, total: int) -> None:
    data = mf.dumps(manifest)
    with (
        atomic_path(archive) as tmp,
        tarfile.open(tmp, "w:gz", compresslevel=1) as tar,
        _progress(total, "archive") as bar,
    ):
        info = tarfile.TarInfo(mf.MANIFEST_NAME)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
        tar.addfile(info, io.BytesIO(data))
        for entry in manifest["files"]:
            info = tar.gettarinfo(workdir / entry["path"], arcname=entry["path"])
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o644
            with open(workdir / entry["path"], "rb") as handle:
                reader = _HashingReader(handle)
                tar.addfile(info, reader)
            if info.size != entry["size"] or reader.digest.hexdigest() != entry["sha256"]:
                raise UserError(
                    f"{workdir / entry['path']} changed while it was exported (is a run still going?); "
                    "export again when it has finished"
                )
            bar.update(entry["size"])


class _HashingReader:
    """A file's bytes as tar reads them, hashed on the way: what is packed is what the manifest says."""

    def __init__(self, handle) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data
