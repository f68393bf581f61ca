"""Safe archive extraction: no absolute paths, no ``..``, no links that leave the target."""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import zipfile
from pathlib import Path

from ..errors import UserError
from ..fileio import atomic_dir


def _check_member_name(archive: Path, name: str) -> str:
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise UserError(f"unsafe archive {archive}: absolute path entry {name!r}")
    parts = [p for p in normalized.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UserError(f"unsafe archive {archive}: entry {name!r} points outside the target ('..')")
    return "/".join(parts)


def _check_link(archive: Path, name: str, link_target: str) -> None:
    if link_target.startswith("/"):
        raise UserError(f"unsafe archive {archive}: link {name!r} -> {link_target!r} leaves the target")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), link_target))
    if resolved == ".." or resolved.startswith("../"):
        raise UserError(f"unsafe archive {archive}: link {name!r} -> {link_target!r} leaves the target")


def _extract_zip(archive: Path, out: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        links = {}
        for info in members:
            name = _check_member_name(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                target = zf.read(info).decode("utf-8", "replace")
                _check_link(archive, name, target)
                links[info.filename] = (name, target)
        for info in members:
            if info.filename in links:
                name, target = links[info.filename]
                link_path = out / name
                link_path.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target, link_path)
            else:
                zf.extract(info, out)


def _extract_tar(archive: Path, out: Path) -> None:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for member in members:
            name = _check_member_name(archive, member.name)
            if member.issym():
                _check_link(archive, name, member.linkname)
            elif member.islnk():
                _check_member_name(archive, member.linkname)
            elif not (member.isfile() or member.isdir()):
                raise UserError(f"unsafe archive {archive}: special file entry {member.name!r}")
        tf.extractall(out, members=members, filter="data")


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
                raise UserError(f"unsafe archive {archive}: {exc}") from None
        else:
            raise UserError(f"not a zip or tar archive: {archive}")
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
