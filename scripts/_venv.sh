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
    # torch comes with about 6 GB of CUDA libraries. pip runs without its cache (a second copy of every
    # wheel) and unpacks beside the venv rather than in a possibly small /tmp.
    free_gb=$(df -Pk . | awk 'NR == 2 {print int($4 / 1048576)}')
    if [ "$free_gb" -lt 7 ]; then
        echo "warning: ${free_gb} GB free under $PWD; installing torch and its CUDA libraries needs about 7 GB" >&2
    fi
    scratch="$PWD/.venv/pip-tmp"
    mkdir -p "$scratch"
    pip=(env PIP_NO_CACHE_DIR=1 TMPDIR="$scratch" .venv/bin/python -m pip install --quiet)
    "${pip[@]}" --upgrade pip
    # pip holds every downloaded wheel until it is done (2.5 GB here), so the large ones (torch, triton and
    # the CUDA libraries) go in first, one per call, at the versions the full resolution picks.
    "${pip[@]}" --dry-run --ignore-installed --report "$scratch/plan.json" -e ".[test]"
    large=$(.venv/bin/python -c '
import json, re, sys
for item in json.load(open(sys.argv[1]))["install"]:
    meta = item["metadata"]
    if re.fullmatch(r"torch|triton|nvidia-.*|cuda-.*", meta["name"], re.IGNORECASE):
        print("%s==%s" % (meta["name"], meta["version"]))' "$scratch/plan.json")
    for pin in $large; do
        "${pip[@]}" --no-deps "$pin"
    done
    "${pip[@]}" -e ".[test]"
    rm -rf "$scratch"
    echo "$wanted" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
