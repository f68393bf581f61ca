#!/usr/bin/env bash
# README command (2): install into .venv and run the test suite (pass pytest options, e.g. -m "not slow").
case "${1:-}" in
    -h | --help)
        cat <<'EOF'
usage: bash scripts/test.sh [pytest options and test paths]

Installs requirements.lock and the project into .venv when needed (the first time: about 6.3 GB, minutes),
then runs pytest on tests/ with these options. Without options it runs every test except the end-to-end
workflow runs marked `slow` (pyproject.toml's default `-m "not slow"`).

What and how long (2 CPU cores, a fresh clone; benchmarks/results/test_suite_cpu_2threads.md):
  bash scripts/test.sh                    the default suite, some 730 tests: about 14 minutes (13.5 on
                                          an idle machine; more on one shared with other work)
  bash scripts/test.sh -m slow            only the 58 slow end-to-end runs (the demo workflow, a user's
                                          data, moved runs, the run archive): about 15 minutes
  bash scripts/test.sh -m ""              everything, both of the above
  bash scripts/test.sh tests/test_cli.py  one file: seconds to a few minutes

Other examples:
  bash scripts/test.sh -x -q tests/test_drift.py   stop at the first failure, one file, quietly
  bash scripts/test.sh -k scramble                 the tests whose names contain "scramble"
  bash scripts/test.sh --durations=20              the 20 slowest tests after the run

CI (.ci/run) runs the default suite, then `-m slow`, then the demo through SLURM (docs/testing.md).
`python -m pytest --help` lists pytest's own options.
EOF
        exit 0
        ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
python -m pytest "$@"
