# Sourced by the scripts in this folder: create .venv at the project root (reused when present),
# install the project with its test extras when pyproject.toml changed, and put .venv/bin first on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    if ! "$python" -m venv .venv 2>/dev/null; then
        # Debian ships venv's pip bootstrap separately.
        rm -rf .venv
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        else
            echo "error: '$python -m venv' failed; install python3-venv (sudo apt-get install python3-venv)" >&2
            exit 1
        fi
        "$python" -m venv .venv
    fi
fi
stamp=.venv/.bagnet-repro-installed
wanted=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    # torch comes with about 6 GB of CUDA libraries. No pip cache (it would keep a second copy of every
    # wheel) and pip's unpacking next to the venv rather than in a possibly small /tmp keep the peak low.
    free_gb=$(df -Pk . | awk 'NR == 2 {print int($4 / 1048576)}')
    if [ "$free_gb" -lt 10 ]; then
        echo "warning: ${free_gb} GB free under $PWD; installing torch and its CUDA libraries needs about 10 GB" >&2
    fi
    mkdir -p .venv/pip-tmp
    export PIP_NO_CACHE_DIR=1
    TMPDIR="$PWD/.venv/pip-tmp" .venv/bin/python -m pip install --quiet --upgrade pip
    TMPDIR="$PWD/.venv/pip-tmp" .venv/bin/python -m pip install --quiet -e ".[test]"
    rm -rf .venv/pip-tmp
    echo "$wanted" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
