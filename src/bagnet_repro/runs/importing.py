"""Import a run archive into a checkout, all or nothing.

Nothing in the archive is trusted, and everything that can be checked is checked before a byte of it reaches the
disk: the manifest (its first member) names every file with its size and sha256, so the names are checked
against the workflow, the files here against the archive's, and the total against the free space first. Each
member is then checked against its entry as it is staged (never more bytes than listed), every destination is
checked writable, and only then is anything placed (``placing``: a failure takes it all back; a kill leaves a
stage the next import completes or removes). Snakemake's records travel with the files, renamed for this
checkout's folders (``relocation``), so ``snakemake -n`` plans nothing the archive covers."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import UserError
from . import manifest as mf
from . import placing
from .members import DAMAGED, Refused, copy_checked, members, read_manifest, refuse
from .relocation import relocated_records
from .workflow_dag import job_files, open_workflow, own_snakefile, read_metadata_records


def _progress(total: int, what: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=what, disable=None, leave=False)


def _finish_stale(workdir: Path) -> None:
    """A stage left by an import that was killed: completed from its plan, or removed; one line says which."""
    for root in placing.stale_stages(workdir):
        stage = placing.Stage(root)
        print(f"note: {placing.complete(stage, workdir)}", file=sys.stderr)


def _unaccounted_hint(configfiles: Sequence[str]) -> str:
    return "" if configfiles else "; pass the run's config files with --configfile"


def _to_place(archive: Path, workdir: Path, entries: list[dict], force: bool, keep_logs: bool):
    """The entries to write (a file here identical to the archive's is left as it is), the logs kept as they
    are here, and the files here that differ (refused unless ``force``). A path whose folders lead out of its
    place through a link is refused outright."""
    place, kept, differing = [], [], []
    for entry in entries:
        name = entry["path"]
        target = workdir / name
        top = os.path.realpath(workdir / name.split("/")[0])
        folder = os.path.realpath(target.parent)
        if folder != top and not folder.startswith(top + os.sep):
            refuse(archive, f"{target.parent} leads out of {top} through a link")
        if not os.path.lexists(target):
            place.append(entry)
        elif target.is_file() and not target.is_symlink() and mf.sha256_of(target) == entry["sha256"]:
            continue
        elif keep_logs and name.startswith("logs/"):
            kept.append(name)
        else:
            differing.append(name)
            place.append(entry)
    if differing and not force:
        refuse(
            archive,
            f"{len(differing)} files here differ from the archive's (first: {differing[0]}); "
            "move them away, or pass --force to replace them",
        )
    return place, kept, differing


def _nearest_folder(path: Path) -> Path:
    while not path.is_dir():
        path = path.parent
    return path


def _check_space(archive: Path, workdir: Path, entries: list[dict]) -> None:
    """The bytes to write against the free space of each disk they go to (the stage lies in ``workdir``)."""
    need: dict[int, tuple[int, Path]] = {}
    for entry in entries:
        for folder in {_nearest_folder(workdir), _nearest_folder((workdir / entry["path"]).parent)}:
            device = folder.stat().st_dev
            total, where = need.get(device, (0, folder))
            need[device] = (total + entry["size"], where)
    for total, where in need.values():
        free = shutil.disk_usage(where).free
        if total > free:
            refuse(archive, f"its files take {total / 1e6:.1f} MB and {where} has {free / 1e6:.1f} MB free")


def _check_writable(archive: Path, workdir: Path, names: list[str]) -> None:
    """Every folder a file goes to (or the nearest one that exists) takes a new file, tried for real; none of
    them is a file here."""
    folders = {_nearest_folder((workdir / name).parent) for name in names}
    for name in names:
        for parent in (workdir / name).parents:
            if parent == workdir:
                break
            if os.path.lexists(parent) and not parent.is_dir():
                refuse(archive, f"{parent} is a file here where the archive's {name} needs a folder")
    folders.add(_nearest_folder(workdir / ".snakemake" / "metadata"))
    for folder in sorted(folders):
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            refuse(archive, f"{folder} cannot be written ({exc.strerror or exc})")


def _stage_files(archive: Path, stage: placing.Stage, manifest: dict, wanted: set[str]) -> None:
    """Every member checked; those in ``wanted`` written into the stage, the others only hashed."""
    expected = {entry["path"]: entry for entry in manifest["files"]}
    total = sum(entry["size"] for entry in manifest["files"])
    with _progress(total, "verify") as bar:
        try:
            for name, tar, member in members(archive, expected):
                _stage_member(archive, stage, name, tar.extractfile(member), expected[name], name in wanted, bar)
        except DAMAGED as exc:  # a cut inside a member's bytes
            refuse(archive, f"truncated or damaged ({exc})")


def _stage_member(archive: Path, stage: placing.Stage, name: str, source, entry: dict, wanted: bool, bar) -> None:
    if not wanted:
        copy_checked(archive, name, source, entry, None, bar)
        return
    target = stage.files / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as sink:
            copy_checked(archive, name, source, entry, sink, bar)
    except OSError as exc:
        refuse(archive, f"cannot stage {name} in {stage.root.parent}: {exc.strerror or exc}")


def import_run(
    archive: str | os.PathLike,
    workdir: str | os.PathLike = ".",
    configfiles: Sequence[str] = (),
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
    _finish_stale(workdir)
    manifest = read_manifest(archive)
    names = [entry["path"] for entry in manifest["files"]]
    with open_workflow(workdir, configfiles, snakefile=own_snakefile(workdir, snakefile)) as workflow:
        known = {name for job in workflow.dag.jobs for name in job_files(job)}
        outputs = {name for job in workflow.dag.jobs for name in job_files(job, logs=False)}
        config = json.loads(json.dumps(workflow.config, default=str))
        project = Path(workflow.basedir)
    unknown = sorted((name for name in names if name not in known), key=lambda n: (not n.startswith("results/"), n))
    if unknown:
        refuse(
            archive,
            f"{unknown[0]} is not a file this workflow writes (with its config files); {len(unknown)} such"
            + _unaccounted_hint(configfiles),
        )
    entries, kept, differing = _to_place(archive, workdir, manifest["files"], force, keep_logs)
    _check_space(archive, workdir, entries)
    order = [entry["path"] for entry in sorted(entries, key=lambda entry: entry["mtime_ns"])]
    _check_writable(archive, workdir, order)
    stage = placing.Stage.new(workdir)
    try:
        _stage_files(archive, stage, manifest, set(order))
        moved = relocated_records(manifest["records"], manifest["provenance"], workdir, project)
        cleared: dict[str, dict | None] = {name: None for name in names if name in outputs and name not in moved}
        records: dict[str, dict | None] = {**moved, **cleared}
        plan = {
            "archive": str(archive),
            "names": order,
            "new_folders": placing.new_folders(workdir, order),
            "records": records,
            "previous_records": read_metadata_records(workdir, list(records)),
        }
        stage.write_plan(plan)
    except BaseException:
        stage.remove()
        raise
    placing.place(stage, workdir, plan)
    stage.remove()
    return {
        "files": len(names),
        "bytes": sum(entry["size"] for entry in manifest["files"]),
        "records": len(records) - len(cleared),
        "warnings": _differences(manifest["provenance"], project, config),
        "replaced": differing,
        "kept_logs": kept,
    }


def _differences(provenance: dict, project: Path, config: dict) -> list[str]:
    """What differs between the exporting checkout and this one: the commit and the resolved config's keys."""
    differences = []
    here = mf.git_commit(project)
    if here != provenance["commit"]:
        differences.append(f"commit {provenance['commit'][:12]} there, {here[:12]} here")
    keys = mf.config_differences(provenance.get("config", {}), config)
    if keys:
        differences.append(f"config {', '.join(keys[:6])}{' ...' if len(keys) > 6 else ''}")
    return differences


__all__ = ["Refused", "import_run"]
