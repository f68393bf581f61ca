"""Compile the report with Typst (the PyPI wheel: offline, no TeX installation, no root).

The template is copied next to the values file so that the whole document lives under the working directory,
which is Typst's root: the values, tables and figures are then addressed by root-relative paths.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from ..errors import UserError
from ..files.atomic import atomic_path


def build_pdf(template: str | os.PathLike, values: str | os.PathLike, out: str | os.PathLike) -> None:
    """Write ``out`` from ``template`` and ``values`` (paths relative to the working directory)."""
    import typst

    root = Path.cwd()
    values = Path(values)
    # A scratch copy, removed once compiled: no job declares it, so left behind it would be a stray file of the
    # run (export-run counts every file under results/).
    source = values.parent / "paper.typ"
    shutil.copyfile(template, source)
    with atomic_path(out) as tmp:
        try:
            typst.compile(
                str(source),
                output=str(tmp),
                root=str(root),
                sys_inputs={"values": "/" + values.resolve().relative_to(root.resolve()).as_posix()},
            )
        except typst.TypstError as error:
            where = re.search(r"┌─ (\S+)", getattr(error, "diagnostic", "") or "")
            place = f" (at {where.group(1)})" if where else ""
            raise UserError(f"{template}: Typst could not build the report: {error.message}{place}") from None
        finally:
            source.unlink(missing_ok=True)
