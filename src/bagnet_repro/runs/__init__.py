"""A run as Snakemake's own API sees it (its jobs, records and the target behind each result), and a finished
run that travels: exported with a manifest and provenance, imported into another checkout so Snakemake plans
nothing for what it covers (see docs/moving-runs.md)."""
