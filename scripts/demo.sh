#!/usr/bin/env bash
# README command (1): install into .venv and run the whole workflow on the embedded demo data (CPU).
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
start=$(date +%s)
snakemake "$@" --cores all --configfile configs/demo.yaml
echo "demo finished in $(( $(date +%s) - start )) s: report/tables/table1.csv, report/figures/training_curves.pdf"
