"""Data acquisition, layout detection, splits, audit and loading."""
