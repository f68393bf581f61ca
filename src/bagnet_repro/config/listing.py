"""A digest of a folder's listing (paths, sizes, modification times), cheap enough to take at every start.

For ``data.source: local`` the images are not produced by the workflow, so Snakemake cannot see them
change; the inventory rule carries this digest as a parameter, and Snakemake reruns it (and all that
depends on it) when the folder, a file in it, or the folder the config points at changes. Standard
library only: the Snakefile computes it at parse time.
"""

from __future__ import annotations

import hashlib
import os


def folder_listing(root: str | os.PathLike) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime in ns) of every file under ``root``, sorted; links are followed."""
    entries = []
    for folder, dirs, files in os.walk(os.fspath(root), followlinks=True):
        dirs.sort()
        for name in files:
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:  # a dangling link: listed, so that fixing it reruns the inventory
                entries.append((os.path.relpath(path, root), -1, -1))
                continue
            entries.append((os.path.relpath(path, root), info.st_size, info.st_mtime_ns))
    return sorted(entries)


def listing_digest(root: str | os.PathLike) -> str:
    """sha256 over the folder's resolved path and listing; "missing" when there is no such folder."""
    if not os.path.isdir(root):
        return "missing"
    digest = hashlib.sha256(os.path.realpath(root).encode())
    for path, size, mtime in folder_listing(root):
        digest.update(f"{path}\t{size}\t{mtime}\n".encode())
    return digest.hexdigest()
