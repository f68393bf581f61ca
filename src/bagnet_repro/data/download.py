"""Verified downloads: retries, HTTP range resume, progress bar, rename only after the sha256 matches."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import UserError
from ..files.atomic import file_digest

CHUNK = 1 << 16


def _partial_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _fetch_once(url: str, part: Path, timeout: float) -> None:
    """Append the remainder of ``url`` to ``part``; raise ``IOError`` if the transfer ends early."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "bagnet-repro"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        status = getattr(response, "status", 200)
        if have and status != 206:
            have = 0  # the server ignored the range request: start over
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length is not None else None
        mode = "ab" if have else "wb"
        with (
            open(part, mode) as out,
            tqdm(
                total=expected,
                initial=have,
                unit="B",
                unit_scale=True,
                desc=Path(url).name or url,
                mininterval=1.0,
            ) as bar,
        ):
            while True:
                block = response.read(CHUNK)
                if not block:
                    break
                out.write(block)
                bar.update(len(block))
    got = part.stat().st_size
    if expected is not None and got < expected:
        raise OSError(f"transfer ended early: {got} of {expected} bytes")


def check_digest(
    path: str | os.PathLike, expected: str | None, what: str | os.PathLike, algorithm: str = "sha256"
) -> str:
    """The file's digest; a one-line error naming ``what`` unless it starts with ``expected`` (if given).

    ``expected`` is the full digest or a prefix of it (torch.hub names files after the first 8 hex digits
    of their sha256). md5 is for archives whose publishers record nothing else (Imagenette, as torchvision
    lists it).
    """
    actual = file_digest(path, algorithm)
    if expected and not actual.startswith(expected.lower()):
        shown = expected if len(expected) == len(actual) else f"{expected}..."
        raise UserError(f"checksum mismatch for {what}: expected {algorithm} {shown}, got {actual}")
    return actual


def _fetch(url: str, part: Path, retries: int, timeout: float, backoff: float) -> None:
    """Fetch ``url`` into ``part`` with retries, resuming from what is already there. A final failure keeps
    ``part``, so the next run resumes the transfer instead of starting over."""
    last_error: Exception | None = None
    for attempt in range(1, retries + 1):
        if part.exists() and part.stat().st_size:
            print(f"resuming {url} from byte {part.stat().st_size} ({part})", flush=True)
        try:
            _fetch_once(url, part, timeout)
            return
        except (OSError, urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code == 416 and part.exists():
                return  # Range not satisfiable: what we have may already be complete; the digest decides.
            last_error = exc
            if attempt < retries:
                print(f"attempt {attempt}/{retries} failed: {exc}; retrying in {backoff * attempt:g} s", flush=True)
                time.sleep(backoff * attempt)
    kept = part.stat().st_size if part.exists() else 0
    resume = f"; {kept} bytes are kept in {part} and the next run resumes them" if kept else ""
    raise UserError(f"download failed after {retries} attempts: {url}: {last_error}{resume}")


def _store_folder(store: Path, url: str) -> Path:
    """The verified copy of ``url`` lives in a folder named by the URL, so another URL never reuses it."""
    return store / hashlib.sha256(url.encode()).hexdigest()[:16]


def _link_or_copy(source: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, dest)


def _matches(path: Path, sha256: str | None, md5: str | None) -> bool:
    try:
        check_digest(path, sha256, path)
        check_digest(path, md5, path, "md5")
    except UserError:
        return False
    return True


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
    announce_unverified: bool = True,
    md5: str | None = None,
    store: str | os.PathLike | None = None,
) -> Path:
    """Download ``url`` to ``dest``; verify ``sha256`` (and ``md5`` when given) before ``dest`` appears.

    ``sha256`` is the full digest or a prefix of it (see ``check_digest``).
    A kill or a server that stays down leaves ``<name>.part`` behind and the next call resumes it.
    ``file://`` URLs and plain paths are copied (still verified).
    With ``store``, the verified file is kept there too (``dest`` is a hard link to it): Snakemake deletes a
    rule's output before rerunning it, e.g. after the pinned sha256 changed, and the stored copy is then
    reused if it matches and is only replaced once a new download verifies.
    """
    dest = Path(dest)
    new_folders = _missing_folders(dest.parent) + (_missing_folders(_store_folder(Path(store), url)) if store else [])
    try:
        return _download(url, dest, sha256, retries, timeout, backoff, announce_unverified, md5, store)
    except BaseException:
        for folder in new_folders:  # what this call made and left empty (an offline fetch leaves no folders)
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _download(url, dest: Path, sha256, retries, timeout, backoff, announce_unverified, md5, store) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    stored = None
    if store is not None:
        stored = _store_folder(Path(store), url) / dest.name
        stored.parent.mkdir(parents=True, exist_ok=True)
        if stored.is_file() and _matches(stored, sha256, md5):
            print(f"reusing the verified download {stored}", flush=True)
            _link_or_copy(stored, dest)
            return dest
    part = _partial_path(stored if stored is not None else dest)
    if url.startswith("file://") or "://" not in url:
        source = Path(url[len("file://") :] if url.startswith("file://") else url)
        if not source.is_file():
            raise UserError(f"download source not found: {source}")
        shutil.copyfile(source, part)
    else:
        try:
            _fetch(url, part, retries, timeout, backoff)
        except UserError as exc:
            digest = f"its sha256 begins {sha256}" if sha256 and len(sha256) < 64 else f"sha256 {sha256 or 'unchecked'}"
            raise UserError(
                f"{exc}; with no internet, fetch {url} elsewhere and put it here by hand as {dest} ({digest})"
            ) from None
    try:
        actual = check_digest(part, sha256, url)
        check_digest(part, md5, url, "md5")
    except UserError as exc:
        part.unlink(missing_ok=True)  # complete and wrong: resuming it could never verify
        if stored is not None and stored.is_file():
            raise UserError(f"{exc}; the earlier download is kept in {stored}") from None
        raise
    if not sha256 and md5:
        print(f"{url} matches md5 {md5}; its sha256 is {actual}", flush=True)
    elif not sha256 and announce_unverified:
        print(f"warning: {url} was not verified (no sha256 configured); its sha256 is {actual}", flush=True)
    if stored is not None:
        os.replace(part, stored)
        _link_or_copy(stored, dest)
    else:
        os.replace(part, dest)
    return dest
