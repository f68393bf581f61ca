"""Export a finished run into one .tar.gz and import it into another checkout.

The import trusts nothing in the archive: every member is checked (name, type, place, manifest entry, size,
sha256) while it is staged in a temporary folder, and only when all of them hold is anything moved into place.
Imported files get fresh times in their original order (newer than the checkout's sources, outputs still
newer than their inputs), and Snakemake's metadata records travel with them, rewritten for this checkout's
paths, so ``snakemake -n`` plans nothing the archive covers while a changed rule, parameter or input set still
reruns what it changes."""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

from ..data.extract import _check_member_name
from ..errors import UserError
from ..files.atomic import atomic_path
from . import manifest as mf
from .workflow_dag import PROJECT, job_files, metadata_records, open_workflow, write_metadata_records


def _progress(total: int, what: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=what, disable=None, leave=False)


def _snakemake_version() -> str:
    try:
        import snakemake
    except ImportError:  # a piece exported on a machine without Snakemake
        return "not installed"
    return snakemake.__version__


def _workflow_files(workflow, weights: bool) -> list[str]:
    return sorted({name for job in workflow.dag.jobs for name in job_files(job) if mf.travels(name, weights)})


def export_run(
    archive: str | os.PathLike,
    workdir: str | os.PathLike = ".",
    configfiles: list[str] = (),
    weights: bool = True,
    snakefile: str | os.PathLike | None = None,
    listing: str | os.PathLike | None = None,
) -> dict:
    """Write the run in ``workdir`` (every existing output and log of the workflow that travels) into
    ``archive``; returns the manifest. With ``listing`` (a JSON file of ``files`` and the resolved ``config``,
    as scripts/gpu_piece.py plans them) the files are those, and Snakemake is not needed."""
    archive, workdir = Path(archive), Path(workdir).resolve()
    if not archive.name.endswith(".tar.gz"):
        raise UserError(f"{archive}: a run archive is a .tar.gz")
    if listing is not None:
        try:
            planned = json.loads(Path(listing).read_text())
            listed, config = planned["files"], planned["config"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{listing}: not a file list of scripts/gpu_piece.py plan ({exc})") from None
        names = sorted(name for name in listed if mf.travels(name, weights))
        missing = [name for name in names if not (workdir / name).is_file()]
        if missing:
            raise UserError(
                f"{workdir / missing[0]} is missing ({len(missing)} files of {listing}); did the piece finish?"
            )
        records, project, version = {}, PROJECT, _snakemake_version()
    else:
        with open_workflow(workdir, configfiles, snakefile=snakefile) as workflow:
            names = [name for name in _workflow_files(workflow, weights) if (workdir / name).is_file()]
            records = metadata_records(workflow, set(names))
            config = json.loads(json.dumps(workflow.config, default=str))
            project, version = Path(workflow.basedir), _snakemake_version()
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
        "provenance": mf.run_provenance(project, workdir, config, version),
    }
    data = mf.dumps(manifest)
    with (
        atomic_path(archive) as tmp,
        tarfile.open(tmp, "w:gz", compresslevel=1) as tar,
        _progress(total, "archive") as bar,
    ):
        info = tarfile.TarInfo(mf.MANIFEST_NAME)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
        tar.addfile(info, io.BytesIO(data))
        for entry in files:
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
    return manifest


class _HashingReader:
    """A file's bytes as tar reads them, hashed on the way: what is packed is what the manifest says."""

    def __init__(self, handle) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


class _Refused(UserError):
    pass


def _refuse(archive: Path, why: str) -> None:
    raise _Refused(f"refused {archive}: {why}; nothing was written")


def _checked_name(archive: Path, name: str) -> str:
    try:
        clean = _check_member_name(archive, name)
    except UserError:
        _refuse(archive, f"entry {name!r} is an absolute path or leaves the project ('..')")
    if clean != name:
        _refuse(archive, f"entry {name!r} is not a plain relative path")
    if not mf.in_places(name):
        _refuse(archive, f"entry {name!r} is outside results/, logs/ and the rendered report/ outputs")
    return name


def _read_manifest(archive: Path, tar: tarfile.TarFile) -> dict:
    first = tar.next()
    if first is None or first.name != mf.MANIFEST_NAME or not first.isreg():
        _refuse(archive, f"not a run archive (its first entry is not {mf.MANIFEST_NAME})")
    try:
        manifest = json.loads(tar.extractfile(first).read())
    except ValueError:
        _refuse(archive, f"{mf.MANIFEST_NAME} is not JSON")
    if not isinstance(manifest, dict) or manifest.get("format") != mf.FORMAT:
        _refuse(archive, f"{mf.MANIFEST_NAME} is not a manifest of the format {mf.FORMAT!r}")
    for entry in manifest.get("files", []):
        _checked_name(archive, entry["path"])
    return manifest


def _stage(archive: Path, stage: Path) -> dict:
    """Every member checked and written into ``stage``; the manifest when all hold."""
    seen: set[str] = set()
    # gzip's own reader, not tarfile's stream: it checks the trailer's length and CRC, which a cut lacks.
    with gzip.open(archive, "rb") as compressed, tarfile.open(fileobj=compressed, mode="r|") as tar:
        manifest = _read_manifest(archive, tar)
        expected = {entry["path"]: entry for entry in manifest["files"]}
        total = sum(entry["size"] for entry in expected.values())
        with _progress(total, "verify") as bar:
            while (member := tar.next()) is not None:
                name = _checked_name(archive, member.name)
                kind = (
                    "a link"
                    if member.issym() or member.islnk()
                    else "a folder"
                    if member.isdir()
                    else "a device or other special file"
                    if not member.isreg()
                    else None
                )
                if kind:
                    _refuse(archive, f"entry {name!r} is {kind}, not a regular file")
                if name not in expected:
                    _refuse(archive, f"entry {name!r} is not in its manifest")
                if name in seen:
                    _refuse(archive, f"entry {name!r} appears twice")
                seen.add(name)
                target = stage / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest, size = hashlib.sha256(), 0
                source = tar.extractfile(member)
                with open(target, "wb") as handle:
                    while chunk := source.read(1 << 20):
                        digest.update(chunk)
                        size += len(chunk)
                        handle.write(chunk)
                        bar.update(len(chunk))
                if size != expected[name]["size"] or digest.hexdigest() != expected[name]["sha256"]:
                    _refuse(archive, f"{name} does not match its manifest (sha256 or size differs)")
            while compressed.read(1 << 16):  # on to the gzip trailer
                pass
    missing = sorted(set(expected) - seen)
    if missing:
        _refuse(archive, f"{len(missing)} files of its manifest are missing from it (first: {missing[0]})")
    return manifest


def _relocated(value, moves: list[tuple[str, str]]):
    """``value`` with the exporting checkout's folders replaced by this one's, in every string."""
    if isinstance(value, str):
        for old, new in moves:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_relocated(v, moves) for v in value]
    if isinstance(value, dict):
        return {k: _relocated(v, moves) for k, v in value.items()}
    return value


def _inputs_relocated(record: dict, provenance: dict, workdir: Path, project: Path) -> dict:
    """The record's relative inputs that name the exporting checkout's own files (a notebook, the report template:
    the rules give them relative to the working folder) as this checkout names them from its working folder, so
    that a run made in another folder than its code still has the same set of inputs here."""
    inputs = record.get("input")
    if not isinstance(inputs, list):
        return record
    old_work, old_code = Path(provenance["work_dir"]), Path(provenance["code_dir"])
    moved = []
    for name in inputs:
        if isinstance(name, str) and name and not os.path.isabs(name):
            resolved = Path(os.path.normpath(old_work / name))
            if resolved.is_relative_to(old_code):
                inside = resolved.relative_to(old_code)
                if inside.parts[0] not in PLACES_OF_OUTPUTS and (project / inside).is_file():
                    name = os.path.relpath(project / inside, workdir)
        moved.append(name)
    return {**record, "input": moved}


def _inputs_sorted(record: dict) -> dict:
    """Snakemake keeps a job's inputs sorted and compares the lists as they are: a renamed input (a notebook seen
    from another folder) can change its place, and an unsorted list would read as a changed set of inputs."""
    inputs = record.get("input")
    if isinstance(inputs, list) and all(isinstance(name, str) for name in inputs):
        return {**record, "input": sorted(inputs)}
    return record


# The folders whose files are the run's own outputs, never the checkout's sources.
PLACES_OF_OUTPUTS = ("results", "logs", "report")


def _place(staged: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staged, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # results/ on another disk than the stage: copy, then rename there
            raise
        with atomic_path(target) as tmp:
            shutil.copyfile(staged, tmp)


def import_run(
    archive: str | os.PathLike,
    workdir: str | os.PathLike = ".",
    configfiles: list[str] = (),
    force: bool = False,
    snakefile: str | os.PathLike | None = None,
    keep_logs: bool = False,
) -> dict:
    """Import ``archive`` into ``workdir``; returns a summary (files, bytes, records, warnings). With
    ``keep_logs`` a log here that differs from the archive's is kept as it is (pieces of one run share their
    data jobs, whose outputs must agree but whose logs differ in their times)."""
    archive, workdir = Path(archive), Path(workdir).resolve()
    if not archive.is_file():
        raise UserError(f"archive not found: {archive}")
    if not workdir.is_dir():
        raise UserError(f"{workdir} is not a folder to import into")
    stage = Path(tempfile.mkdtemp(prefix=".bagnet-import.", dir=workdir))
    try:
        try:
            manifest = _stage(archive, stage)
        except _Refused:
            raise
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            _refuse(archive, f"truncated or damaged ({exc})")
        names = [entry["path"] for entry in manifest["files"]]
        with open_workflow(workdir, configfiles, snakefile=snakefile) as workflow:
            known = {name for job in workflow.dag.jobs for name in job_files(job)}
            outputs = {name for job in workflow.dag.jobs for name in job_files(job, logs=False)}
            config = json.loads(json.dumps(workflow.config, default=str))
            project = Path(workflow.basedir)
        unknown = [name for name in names if name not in known]
        if unknown:
            _refuse(
                archive, f"{unknown[0]} is not a file this workflow writes (with its config files); {len(unknown)} such"
            )
        conflicts = _conflicts(workdir, stage, names)
        kept = [name for name in conflicts if keep_logs and name.startswith("logs/")]
        for name in kept:
            (stage / name).unlink()
        conflicts = [name for name in conflicts if name not in kept]
        if conflicts and not force:
            _refuse(
                archive,
                f"{len(conflicts)} files here differ from the archive's (first: {conflicts[0]}); "
                "move them away, or pass --force to replace them",
            )
        warnings = _differences(manifest["provenance"], project, config)
        order = sorted(manifest["files"], key=lambda entry: entry["mtime_ns"])
        now = time.time_ns()
        for rank, entry in enumerate(order):
            if (stage / entry["path"]).exists():  # a file identical to one here keeps that one and its time
                target = workdir / entry["path"]
                _place(stage / entry["path"], target)
                stamp = now + rank * 10_000  # 10 us apart: the original order, all newer than the checkout
                os.utime(target, ns=(stamp, stamp))
        moves = sorted(
            {(manifest["provenance"]["work_dir"], str(workdir)), (manifest["provenance"]["code_dir"], str(project))},
            key=lambda m: -len(m[0]),
        )
        records = {
            key: _inputs_sorted(_relocated(_inputs_relocated(record, manifest["provenance"], workdir, project), moves))
            for key, record in manifest["records"].items()
        }
        write_metadata_records(workdir, records, [n for n in names if n in outputs and n not in records])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {
        "files": len(names),
        "bytes": sum(entry["size"] for entry in manifest["files"]),
        "records": len(records),
        "warnings": warnings,
        "replaced": conflicts,
        "kept_logs": kept,
    }


def _conflicts(workdir: Path, stage: Path, names: list[str]) -> list[str]:
    """Files here that the import would change; identical ones are left as they are (and dropped from the
    stage). A path whose folders lead out of its place through a link is refused outright."""
    conflicts = []
    for name in names:
        target = workdir / name
        place = os.path.realpath(workdir / name.split("/")[0])
        folder = os.path.realpath(target.parent)
        if folder != place and not folder.startswith(place + os.sep):
            raise UserError(f"{target.parent} leads out of {place} through a link; nothing was written")
        if os.path.lexists(target):
            if target.is_file() and not target.is_symlink() and mf.sha256_of(target) == mf.sha256_of(stage / name):
                (stage / name).unlink()
            else:
                conflicts.append(name)
    return conflicts


def _differences(provenance: dict, project: Path, config: dict) -> list[str]:
    """What differs between the exporting checkout and this one: the commit and the resolved config's keys."""
    differences = []
    here = mf.git_commit(project)
    if here != provenance["commit"]:
        differences.append(f"commit {provenance['commit'][:12]} there, {here[:12]} here")
    keys = mf.config_differences(provenance["config"], config)
    if keys:
        differences.append(f"config {', '.join(keys[:6])}{' ...' if len(keys) > 6 else ''}")
    return differences
