"""Verified downloads: retries, HTTP range resume, progress bar, rename only after the sha256 matches."""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import UserError
from ..fileio import file_digest

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
        with open(part, mode) as out, tqdm(
            total=expected, initial=have, unit="B", unit_scale=True, desc=Path(url).name or url,
            mininterval=1.0,
        ) as bar:
            while True:
                block = response.read(CHUNK)
                if not block:
                    break
                out.write(block)
                bar.update(len(block))
    got = part.stat().st_size
    if expected is not None and got < expected:
        raise IOError(f"transfer ended early: {got} of {expected} bytes")


def check_digest(path: str | os.PathLike, expected: str | None, what: str | os.PathLike,
                 algorithm: str = "sha256") -> str:
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


def download(url: str, dest: str | os.PathLike, sha256: str | None, retries: int = 3,
             timeout: float = 60.0, backoff: float = 1.0, announce_unverified: bool = True,
             md5: str | None = None) -> Path:
    """Download ``url`` to ``dest``; verify ``sha256`` (and ``md5`` when given) before ``dest`` appears.

    ``sha256`` is the full digest or a prefix of it (see ``check_digest``).
    A kill leaves ``dest.part`` behind and the next call resumes it; a final failure removes it.
    ``file://`` URLs and plain paths are copied (still verified).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _partial_path(dest)
    if url.startswith("file://") or "://" not in url:
        source = Path(url[len("file://"):] if url.startswith("file://") else url)
        if not source.is_file():
            raise UserError(f"download source not found: {source}")
        shutil.copyfile(source, part)
    else:
        last_error: Exception | None = None
        for attempt in range(1, retries + 1):
            try:
                _fetch_once(url, part, timeout)
                last_error = None
                break
            except (urllib.error.URLError, IOError, TimeoutError, ConnectionError) as exc:
                last_error = exc
                if isinstance(exc, urllib.error.HTTPError) and exc.code == 416 and part.exists():
                    # Range not satisfiable: what we have may already be complete; verify below.
                    last_error = None
                    break
                if attempt < retries:
                    time.sleep(backoff * attempt)
        if last_error is not None:
            part.unlink(missing_ok=True)
            raise UserError(f"download failed after {retries} attempts: {url}: {last_error}")
    try:
        actual = check_digest(part, sha256, url)
        check_digest(part, md5, url, "md5")
    except UserError:
        part.unlink(missing_ok=True)
        raise
    if not sha256 and md5:
        print(f"{url} matches md5 {md5}; its sha256 is {actual}", flush=True)
    elif not sha256 and announce_unverified:
        print(f"warning: {url} was not verified (no sha256 configured); its sha256 is {actual}", flush=True)
    os.replace(part, dest)
    return dest

