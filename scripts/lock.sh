#!/usr/bin/env bash
# Rebuild requirements.lock, the exact versions (with their sha256) that scripts/_venv.sh installs, from
# pyproject.toml's ranges: every extra, Python 3.11 on x86_64 Linux (manylinux_2_28), wheels from PyPI.
# Needs uv (`pip install uv` in any venv). Options go to `uv pip compile`, for example
#   scripts/lock.sh --upgrade                       newest versions within the ranges and caps below
#   scripts/lock.sh --torch-backend cu126 -o requirements-cu126.lock
#                                                   torch's CUDA 12.6 wheels, for drivers older than CUDA 13's
# (docs/environments.md). scripts/lock-constraints.txt caps torch at the release this project was verified with.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
uv=${UV:-uv}
out=requirements.lock
for arg in "$@"; do [ "$arg" = -o ] && out=; done
"$uv" pip compile pyproject.toml --all-extras --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --generate-hashes --custom-compile-command "$(echo scripts/lock.sh "$@")" --quiet \
    --constraint scripts/lock-constraints.txt ${out:+-o "$out"} "$@"
