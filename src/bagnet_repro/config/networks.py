"""Every network the pipeline trains, one record each: its facts in one place.

Torch-free on purpose (the Snakefile and the report's notebooks read it): a record names its builder by a
dotted path that only ``models/`` imports.
"""

from __future__ import annotations

# The report's scrambled test cut each image into a REPORT_SCRAMBLE_GRID x REPORT_SCRAMBLE_GRID grid: its
# scrambled values compare only with a run on the same grid.
REPORT_SCRAMBLE_GRID = 4
