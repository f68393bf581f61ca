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
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[test]"
    echo "$wanted" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
