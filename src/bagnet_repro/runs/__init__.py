"""A finished run that travels: exported with a manifest and provenance, imported into another checkout so
Snakemake plans nothing for what it covers (see docs/moving-runs.md)."""
