"""Atomic file writing, so an interrupted or failed step never leaves a half-written output."""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ..errors import UserError

# Write failures the user must act on (space, quota, file size limit, permissions, read-only disk): they
# are reported as one line naming the output, not as a traceback through the temporary file.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS}


def _write_error(target: Path, exc: OSError) -> UserError:
    return UserError(f"cannot write {target}: {exc.strerror or exc}")


def _umask() -> int:
    """The process umask (read by setting it, then restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _empty_file_beside(target: Path, suffix: str) -> Path:
    """A new empty file ``.<name>.<random><suffix>`` in ``target``'s folder (created if missing); a folder
    that cannot be written is one line naming ``target``."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise _write_error(target, exc) from None
    os.close(fd)
    return Path(path)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success."""
    target = Path(target)
    tmp_path = _empty_file_beside(target, ".tmp")
    # mkstemp creates 0600; the output gets the mode a plain open() would give (group members on a
    # shared cluster can read it).
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        if exc.errno in _WRITE_ERRNOS and exc.filename in (None, str(tmp_path), str(target)):
            raise _write_error(target, exc) from None
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; it becomes ``target`` only on success.

    An existing ``target`` is replaced only after the new one is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700
    try:
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def check_writable(*targets: str | os.PathLike) -> None:
    """Fail now, with one line naming the file, if an output of a long job could not be written at its end
    (a read-only or foreign folder): an empty probe file is created beside each target and removed."""
    for target in map(Path, targets):
        _empty_file_beside(target, ".probe").unlink()


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def write_npz_atomic(target: str | os.PathLike, arrays: dict) -> None:
    """Write named numpy arrays as one compressed ``.npz``, atomically."""
    import numpy as np

    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def write_table_atomic(
    target: str | os.PathLike, columns: Sequence[str], rows: Iterable[dict], delimiter: str = "\t"
) -> None:
    """Write dict rows as a TSV (or CSV) table, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(target, buffer.getvalue())


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in blocks (sha256 for our checks, sha1 for the pytorchcv zoo)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    return file_digest(path, "sha256")
