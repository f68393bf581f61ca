"""An archive's manifest and members, checked: the manifest (its first member) is read and every entry's name,
size and digest checked before any member's bytes are read; each member is then checked against its entry
(name, type, header size) before a byte of it is written, and never more bytes than its entry lists are read."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from ..data.extract import _check_member_name
from ..errors import UserError
from . import manifest as mf

DAMAGED = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Refused(UserError):
    """An archive refused before anything of it was placed."""


def refuse(archive: Path, why: str) -> NoReturn:
    raise Refused(f"refused {archive}: {why}; nothing was written")


def checked_name(archive: Path, name: str) -> str:
    try:
        clean = _check_member_name(archive, name)
    except UserError:
        refuse(archive, f"entry {name!r} is an absolute path or leaves the project ('..')")
    if clean != name:
        refuse(archive, f"entry {name!r} is not a plain relative path")
    if not mf.in_places(name):
        refuse(archive, f"entry {name!r} is outside results/, logs/ and the rendered report/ outputs")
    return name


def _checked_entry(archive: Path, entry) -> dict:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        refuse(archive, f"{mf.MANIFEST_NAME} has a file entry without a path")
    name = checked_name(archive, entry["path"])
    size, digest, mtime = entry.get("size"), entry.get("sha256"), entry.get("mtime_ns")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        refuse(archive, f"{mf.MANIFEST_NAME} gives {name} no size in bytes")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        refuse(archive, f"{mf.MANIFEST_NAME} gives {name} no sha256")
    if not isinstance(mtime, int) or isinstance(mtime, bool):
        refuse(archive, f"{mf.MANIFEST_NAME} gives {name} no time")
    return entry


def _manifest_of(archive: Path, tar: tarfile.TarFile) -> dict:
    first = tar.next()
    if first is None or first.name != mf.MANIFEST_NAME or not first.isreg():
        refuse(archive, f"not a run archive (its first entry is not {mf.MANIFEST_NAME})")
    contents = tar.extractfile(first)
    assert contents is not None  # a regular file's entry (checked above) always has contents
    try:
        manifest = json.loads(contents.read())
    except ValueError:
        refuse(archive, f"{mf.MANIFEST_NAME} is not JSON")
    if not isinstance(manifest, dict) or manifest.get("format") != mf.FORMAT:
        refuse(archive, f"{mf.MANIFEST_NAME} is not a manifest of the format {mf.FORMAT!r}")
    files = manifest.get("files")
    provenance = manifest.get("provenance")
    if not isinstance(files, list) or not isinstance(manifest.get("records", {}), dict):
        refuse(archive, f"{mf.MANIFEST_NAME} lists no files")
    if not isinstance(provenance, dict) or not all(
        isinstance(provenance.get(key), str) for key in ("commit", "work_dir", "code_dir")
    ):
        refuse(archive, f"{mf.MANIFEST_NAME} has no provenance (commit, work_dir, code_dir)")
    seen: set[str] = set()
    for entry in files:
        name = _checked_entry(archive, entry)["path"]
        if name in seen:
            refuse(archive, f"{mf.MANIFEST_NAME} lists {name} twice")
        seen.add(name)
    manifest.setdefault("records", {})
    return manifest


def _open(archive: Path):
    # gzip's own reader, not tarfile's stream: it checks the trailer's length and CRC, which a cut lacks.
    compressed = gzip.open(archive, "rb")  # noqa: SIM115 (closed by the caller's with, with the tar)
    return compressed, tarfile.open(fileobj=compressed, mode="r|")


def read_manifest(archive: Path) -> dict:
    """The archive's manifest, every entry checked; no other member is read."""
    try:
        compressed, tar = _open(archive)
        with compressed, tar:
            return _manifest_of(archive, tar)
    except Refused:
        raise
    except DAMAGED as exc:
        refuse(archive, f"truncated or damaged ({exc})")


def _kind(member: tarfile.TarInfo) -> str | None:
    if member.issym() or member.islnk():
        return "a link"
    if member.isdir():
        return "a folder"
    if not member.isreg():
        return "a device or other special file"
    return None


def members(archive: Path, expected: dict[str, dict]) -> Iterator[tuple[str, tarfile.TarFile, tarfile.TarInfo]]:
    """Each member after the manifest, checked against ``expected`` (its manifest's entries by name) before its
    bytes are read; then the archive's end and that no listed member is missing."""
    seen: set[str] = set()
    try:
        compressed, tar = _open(archive)
        with compressed, tar:
            _manifest_of(archive, tar)
            while (member := tar.next()) is not None:
                name = checked_name(archive, member.name)
                if kind := _kind(member):
                    refuse(archive, f"entry {name!r} is {kind}, not a regular file")
                if name not in expected:
                    refuse(archive, f"entry {name!r} is not in its manifest")
                if name in seen:
                    refuse(archive, f"entry {name!r} appears twice")
                listed = expected[name]["size"]
                if member.size != listed:
                    refuse(archive, f"entry {name!r} is {member.size} bytes, its manifest lists {listed}")
                seen.add(name)
                yield name, tar, member
            while compressed.read(1 << 16):  # on to the gzip trailer
                pass
    except Refused:
        raise
    except DAMAGED as exc:
        refuse(archive, f"truncated or damaged ({exc})")
    missing = sorted(set(expected) - seen)
    if missing:
        refuse(archive, f"{len(missing)} files of its manifest are missing from it (first: {missing[0]})")


def copy_checked(archive: Path, name: str, source, entry: dict, sink, progress=None) -> None:
    """Copy a member's bytes (at most its manifest's size) into ``sink`` (None: only hash them) and check
    them against its entry."""
    digest, left = hashlib.sha256(), entry["size"]
    while left and (chunk := source.read(min(left, 1 << 20))):
        digest.update(chunk)
        left -= len(chunk)
        if sink is not None:
            sink.write(chunk)
        if progress is not None:
            progress.update(len(chunk))
    if left or source.read(1) or digest.hexdigest() != entry["sha256"]:
        refuse(archive, f"{name} does not match its manifest (sha256 or size differs)")
