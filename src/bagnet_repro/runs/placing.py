"""An import's stage and its placing, all or nothing. The stage is a folder ``.bagnet-import.*`` in the working
folder: ``files/`` holds the checked copies; ``plan.json``, written once everything is checked, lists what goes
where and the records to write. Placing moves each file in by a rename (a replaced file of the user's is first
renamed beside itself, ``.NAME.bagnet-kept``: on its own disk, so that taking it back needs no space), then writes
the records; a failure takes all of that back. A stage found by a
later import is completed from its plan when it has one (placing had begun: completing it is the only way to
end with records and files that agree) and removed when it has none (nothing of it was placed)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from ..errors import UserError
from . import workflow_dag

PREFIX = ".bagnet-import."
PLAN = "plan.json"


class Stage:
    """A stage folder held (flock) by this process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd = os.open(root, os.O_RDONLY)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise UserError(f"another import into {root.parent} is going ({root.name}); wait for it") from None

    @classmethod
    def new(cls, workdir: Path) -> Stage:
        return cls(Path(tempfile.mkdtemp(prefix=PREFIX, dir=workdir)))

    @property
    def files(self) -> Path:
        return self.root / "files"

    def plan(self) -> dict | None:
        try:
            return json.loads((self.root / PLAN).read_text())
        except FileNotFoundError:
            return None

    def write_plan(self, plan: dict) -> None:
        tmp = self.root / (PLAN + ".tmp")
        with open(tmp, "w") as handle:
            json.dump(plan, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / PLAN)  # the point after which the import is completed, never dropped

    def remove(self) -> None:
        """Drop the plan first (from then on the stage is one to remove), then the folder."""
        (self.root / PLAN).unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)
        os.close(self._fd)


def stale_stages(workdir: Path) -> list[Path]:
    return sorted(path for path in workdir.glob(PREFIX + "*") if path.is_dir() and not path.is_symlink())


def move_in(staged: Path, target: Path) -> None:
    """Rename ``staged`` onto ``target`` (a copy, then a rename, where they lie on different disks)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staged, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = target.with_name(f".{target.name}.bagnet-import.tmp")
        try:
            shutil.copyfile(staged, tmp)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        staged.unlink()


def kept(workdir: Path, name: str) -> Path:
    """Where a file of the user's that the import replaces waits until the import has ended."""
    target = workdir / name
    return target.with_name(f".{target.name}.bagnet-kept")


def place_one(stage: Stage, workdir: Path, name: str) -> None:
    """Put the staged ``name`` in place; a file there is kept beside it until the import has ended."""
    target, staged = workdir / name, stage.files / name
    if not os.path.lexists(staged):  # placed before a kill
        return
    if os.path.lexists(target) and not os.path.lexists(kept(workdir, name)):
        os.rename(target, kept(workdir, name))
    move_in(staged, target)


def drop_kept(workdir: Path, names: list[str]) -> None:
    for name in names:
        kept(workdir, name).unlink(missing_ok=True)


def stamp(workdir: Path, names: list[str]) -> None:
    """Fresh times in the archive's order, 10 us apart: newer than the checkout, outputs newer than inputs."""
    now = time.time_ns()
    for rank, name in enumerate(names):
        stamp_ns = now + rank * 10_000
        os.utime(workdir / name, ns=(stamp_ns, stamp_ns))


def write_record(workdir: Path, key: str, record: dict | None) -> None:
    workflow_dag.write_metadata_record(workdir, key, record)


def place(stage: Stage, workdir: Path, plan: dict) -> None:
    """Every file of ``plan`` in place, then its records; on a failure, everything taken back and one line."""
    current = workdir
    try:
        for name in plan["names"]:
            current = workdir / name
            place_one(stage, workdir, name)
        current = workdir
        stamp(workdir, plan["names"])
        current = workdir / ".snakemake" / "metadata"
        for key, record in plan["records"].items():
            write_record(workdir, key, record)
        drop_kept(workdir, plan["names"])
    except OSError as exc:
        left = took_back(stage, workdir, plan)
        after = (
            "every file and record of this import was taken back, nothing of yours is lost"
            if not left
            else f"{left} could not be taken back; its stage {stage.root.name} is kept, and the next import-run "
            "here completes it"
        )
        raise UserError(f"cannot place {current}: {exc.strerror or exc}; {after}") from None
    except BaseException:
        took_back(stage, workdir, plan)
        raise


def took_back(stage: Stage, workdir: Path, plan: dict) -> int:
    """Undo what placing did: the user's records and files back as they were, the stage removed. Returns how
    many files or records could not be put back (then the stage and its plan stay, for the next import)."""
    left = 0
    for key, record in plan["previous_records"].items():
        try:
            write_record(workdir, key, record)
        except OSError:
            left += 1
    for name in reversed(plan["names"]):
        target, aside = workdir / name, kept(workdir, name)
        if os.path.lexists(stage.files / name) and not os.path.lexists(aside):
            continue  # never placed: the file here (if any) is the user's own
        try:
            if os.path.lexists(aside):
                os.replace(aside, target)
            elif os.path.lexists(target):
                target.unlink()
        except OSError:
            left += 1
    for folder in sorted(plan.get("new_folders", []), key=len, reverse=True):
        with contextlib.suppress(OSError):  # one the user has put files in meanwhile stays
            (workdir / folder).rmdir()
    if not left:
        stage.remove()
    return left


def new_folders(workdir: Path, names: list[str]) -> list[str]:
    """The folders placing ``names`` will make (taken back with them)."""
    folders = set()
    for name in names:
        for parent in Path(name).parents:
            if str(parent) != "." and not os.path.lexists(workdir / parent):
                folders.add(parent.as_posix())
    return sorted(folders)


def complete(stage: Stage, workdir: Path) -> str:
    """Complete an interrupted import from its plan, or remove a stage that has none; says which."""
    plan = stage.plan()
    if plan is None:
        stage.remove()
        return f"removed the stage of an interrupted import ({stage.root.name}); it had placed nothing"
    for name in plan["names"]:
        place_one(stage, workdir, name)
    stamp(workdir, plan["names"])
    for key, record in plan["records"].items():
        write_record(workdir, key, record)
    drop_kept(workdir, plan["names"])
    stage.remove()
    return (
        f"completed an interrupted import of {plan['archive']} from its stage ({stage.root.name}): "
        f"{len(plan['names'])} files, {len(plan['records'])} records"
    )
