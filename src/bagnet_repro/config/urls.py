"""Download entries of the config: the file name each one is saved under."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit


def archive_name(entry: dict) -> str:
    """The file name of a download: ``name``, or the last component of the URL's path."""
    return entry.get("name") or PurePosixPath(urlsplit(entry["url"]).path).name
