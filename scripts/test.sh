#!/usr/bin/env bash
# README command (2): install into .venv and run the test suite (pass pytest options, e.g. -m "not slow").
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
python -m pytest "$@"
