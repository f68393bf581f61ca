"""What the workflow decides before any job runs: the config's schema, loading and checks, and the names of
models, data sets and recipes.

Torch-free by contract (checked by import-linter, see pyproject.toml): the Snakefile imports only this package
(and ``files.code_digest``) while it parses, on a login node or in Snakemake's own environment. Nothing here
imports torch, torchvision, numpy's heavy users (scipy, scikit-learn), matplotlib or PIL.
"""
