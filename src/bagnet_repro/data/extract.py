"""Safe archive extraction: no absolute paths, no ``..``, no special files, nothing written or pointing
outside the target, even through links the archive itself creates."""

from __future__ import annotations

import os
import stat
import tarfile
import zipfile
from pathlib import Path

from ..errors import UserError
from ..files.atomic import atomic_dir


def _check_member_name(archive: Path, name: str) -> str:
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise UserError(f"unsafe archive {archive}: absolute path entry {name!r}")
    parts = [p for p in normalized.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UserError(f"unsafe archive {archive}: entry {name!r} points outside the target ('..')")
    return "/".join(parts)


def _inside(root: Path, path: str | os.PathLike) -> bool:
    """Whether ``path``, with every link on the disk resolved (the archive's own included), is in ``root``."""
    real = os.path.realpath(path)
    return real == str(root) or real.startswith(str(root) + os.sep)


def _check_written_path(archive: Path, root: Path, name: str) -> None:
    """An entry is written at ``root/name`` as the disk resolves it now, after the earlier entries' links:
    a chain such as ``s0 -> .``, ``s1 -> s0/..`` is caught here, where a lexical check of each link is not."""
    if not _inside(root, root / name):
        raise UserError(f"unsafe archive {archive}: entry {name!r} is written through a link that leaves the target")


def _check_link_target(archive: Path, root: Path, name: str, target: str) -> None:
    if target.startswith("/") or not _inside(root, (root / name).parent / target):
        raise UserError(f"unsafe archive {archive}: link {name!r} -> {target!r} leaves the target")


def _check_final_links(archive: Path, root: Path) -> None:
    """Every link in the finished tree must end inside it: a link may have been checked while a later
    entry of its path did not exist yet, and only the final tree says where it points."""
    for folder, dirs, files in os.walk(root):
        for entry in dirs + files:
            path = Path(folder) / entry
            if path.is_symlink() and not _inside(root, path):
                name = path.relative_to(root).as_posix()
                raise UserError(f"unsafe archive {archive}: link {name!r} -> {os.readlink(path)!r} leaves the target")


def _extract_zip(archive: Path, out: Path) -> None:
    """Entries in order, each checked against the links already on the disk (as tar's data filter does)."""
    root = Path(os.path.realpath(out))
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = _check_member_name(archive, info.filename)
            if not name:
                continue
            _check_written_path(archive, root, name)
            if stat.S_ISLNK(info.external_attr >> 16):
                target = zf.read(info).decode("utf-8", "replace")
                _check_link_target(archive, root, name, target)
                link_path = root / name
                link_path.parent.mkdir(parents=True, exist_ok=True)
                if os.path.lexists(link_path):
                    raise UserError(f"unsafe archive {archive}: link {name!r} replaces an earlier entry")
                os.symlink(target, link_path)
            else:
                zf.extract(info, root)


def _extract_tar(archive: Path, out: Path) -> None:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for member in members:
            _check_member_name(archive, member.name)
            if member.islnk():
                _check_member_name(archive, member.linkname)
            elif not (member.isfile() or member.isdir() or member.issym()):
                raise UserError(f"unsafe archive {archive}: special file entry {member.name!r}")
        # The data filter resolves each member and link target against the disk as extracted so far.
        tf.extractall(out, members=members, filter="data")


def _filter_message(archive: Path, exc: tarfile.FilterError) -> str:
    """The tar data filter's refusal in the words the zip checks use."""
    name = exc.tarinfo.name
    if isinstance(exc, (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError)):
        return f"unsafe archive {archive}: link {name!r} -> {exc.tarinfo.linkname!r} leaves the target"
    if isinstance(exc, tarfile.OutsideDestinationError):
        return f"unsafe archive {archive}: entry {name!r} is written through a link that leaves the target"
    return f"unsafe archive {archive}: {exc}"


def extract_archive(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract a .zip or .tar[.gz|.bz2|.xz] into ``dest``; ``dest`` appears only when complete."""
    archive = Path(archive)
    if not archive.is_file():
        raise UserError(f"archive not found: {archive}")
    dest = Path(dest)
    with atomic_dir(dest) as tmp:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, tmp)
        elif tarfile.is_tarfile(archive):
            try:
                _extract_tar(archive, tmp)
            except tarfile.FilterError as exc:
                raise UserError(_filter_message(archive, exc)) from None
        else:
            raise UserError(f"not a zip or tar archive: {archive}")
        _check_final_links(archive, Path(os.path.realpath(tmp)))
    return dest


def extract_archives(archives: list[str | os.PathLike], dest: str | os.PathLike) -> Path:
    """One archive is extracted into ``dest`` itself; several go to ``dest/part<i>`` each, and ``dest``
    appears only when all of them are complete (the inventory finds the layout inside either way)."""
    if len(archives) == 1:
        return extract_archive(archives[0], dest)
    dest = Path(dest)
    with atomic_dir(dest) as tmp:
        for index, archive in enumerate(archives):
            extract_archive(archive, Path(tmp) / f"part{index}")
    return dest
