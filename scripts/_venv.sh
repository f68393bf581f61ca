# Sourced by the scripts in this folder: create .venv at the project root (reused when present),
# install requirements.lock and the project (editable) when either or pyproject.toml changed, and put
# .venv/bin first on PATH.
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
# The exact versions come from requirements.lock (scripts/lock.sh makes it; docs/environments.md), checked by
# their sha256; the project itself goes in editable on top, without dependencies of its own choosing.
wanted=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    # torch comes with about 6 GB of CUDA libraries. pip runs without its cache (a second copy of every
    # wheel) and unpacks beside the venv rather than in a possibly small /tmp.
    started=$SECONDS
    echo "installing requirements.lock and the project into $PWD/.venv (PyTorch and its CUDA libraries:" \
        "about 6.3 GB, several minutes the first time; once per change of the lock or pyproject.toml)" >&2
    free_gb=$(df -Pk . | awk 'NR == 2 {print int($4 / 1048576)}')
    if [ "$free_gb" -lt 7 ]; then
        echo "warning: ${free_gb} GB free under $PWD; installing torch and its CUDA libraries needs about 7 GB" >&2
    fi
    scratch="$PWD/.venv/pip-tmp"
    mkdir -p "$scratch"
    pip=(env PIP_NO_CACHE_DIR=1 TMPDIR="$scratch" .venv/bin/python -m pip install --quiet)
    echo "upgrading pip" >&2
    "${pip[@]}" --upgrade pip
    # pip holds every downloaded wheel until it is done (2.5 GB here), so the large ones (torch, triton and
    # the CUDA libraries) go in first, one per call, each with its locked hashes.
    .venv/bin/python - requirements.lock "$scratch" <<'PY'
import re, sys
from pathlib import Path
blocks = re.split(r"\n(?=[^\s#])", Path(sys.argv[1]).read_text())
large = [b for b in blocks if re.match(r"(torch|triton|nvidia-[\w-]+|cuda-[\w-]+)==", b, re.IGNORECASE)]
for number, block in enumerate(large):
    Path(sys.argv[2], f"large-{number:02d}.txt").write_text(block.strip() + "\n")
PY
    parts=("$scratch"/large-*.txt)
    steps=$((${#parts[@]} + 2))
    step=0
    # pip runs quietly; these lines say what it installs and how far it is (stderr: stdout stays the tests').
    progress() {
        step=$((step + 1))
        echo "[$step/$steps, $((SECONDS - started)) s] installing $1" >&2
    }
    for part in "${parts[@]}"; do
        progress "$(head -n 1 "$part" | cut -d' ' -f1)"
        "${pip[@]}" --no-deps --require-hashes -r "$part"
    done
    progress "the other $(($(grep -cE '^[A-Za-z]' requirements.lock) - ${#parts[@]})) packages of requirements.lock"
    "${pip[@]}" --require-hashes -r requirements.lock
    progress "the project itself (pip install --no-deps -e .)"
    "${pip[@]}" --no-deps -e .
    rm -rf "$scratch"
    echo "$wanted" > "$stamp"
    echo "installed into $PWD/.venv in $((SECONDS - started)) s ($(du -sh .venv | cut -f1))" >&2
fi
export PATH="$PWD/.venv/bin:$PATH"
