"""Run part of a workflow on a machine without Snakemake (a lent GPU box), then finish it here.

    python scripts/gpu_piece.py pack-images --source ../shared/data/scene15 --out .gpu/scene15
    python scripts/gpu_piece.py plan --seed 152 --models bagnet33 resnet50 --out .gpu/piece.sh \
        --configfile configs/scene15_scratch.yaml .gpu/config.yaml
    # on the GPU machine, from the repository root (.gpu carried): OUT=... bash .gpu/piece.sh
    python scripts/gpu_piece.py finish piece_152_*.tar.gz --configfile configs/scene15_scratch.yaml .gpu/config.yaml

``pack-images`` copies the images a split file lists, resized to the training size and re-encoded (JPEG
quality 95), into a folder small enough to travel with the working tree (the report split's 2,700 images
at 224 px: about 50 MB); an extra config points ``data.local_dir`` and ``data.split_file`` there.
``plan`` asks Snakemake for the shell commands of every job that makes those models' test predictions for
that seed (inventory, split, train, evaluate, in that order) and writes them into one script that stops at
the first failure, times each job, and packs what the rest of the workflow reads (the data tables,
histories, metrics, per-image predictions and the logs; not the weights, too large to travel back) into
``$OUT/piece_<seed>_<models>.tar.gz``. ``finish`` unpacks such files into the project and runs, here, the
commands Snakemake gives for summarize and the Table 1 notebook (Snakemake itself would retrain: the
weights those predictions came from stayed on the GPU machine).
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from bagnet_repro.data.extract import extract_archive  # noqa: E402 (the package is found through PROJECT)
from bagnet_repro.errors import UserError  # noqa: E402

PIECE_RULES = ("inventory", "split", "train", "evaluate")  # in dependency order
FINISH_RULES = ("summarize", "table1")


def dry_run(targets: list[str], configfiles: list[str], seed: int | None) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as seed_config:  # the piece's seed over the configs
        seed_config.write(f"seeds: [{seed}]\n" if seed is not None else "{}\n")
        seed_config.flush()
        command = ["snakemake", "-n", "-p", "--cores", "1", "--forceall", *targets, "--configfile", *configfiles,
                   seed_config.name]
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: snakemake's dry run failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def jobs(dry_run_text: str, rules: tuple[str, ...]) -> list[dict]:
    """Rule, outputs, log and shell command of each planned job of ``rules``, in the order of ``rules``; the
    project's absolute path becomes ``$PWD`` so the commands run from another checkout's root."""
    found = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_text):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        if not rule or rule.group(1) not in rules:
            continue
        fields = {key: re.search(rf"^\s+{key}: (.*)$", block, re.M) for key in ("output", "log")}
        command = re.search(r"^Shell command: (.*)$", block, re.M).group(1).replace(str(PROJECT), "$PWD")
        found.append({"rule": rule.group(1), "command": command,
                      **{key: [v.strip() for v in m.group(1).split(",")] if m else [] for key, m in fields.items()}})
    return sorted(found, key=lambda job: rules.index(job["rule"]))


def plan(args: argparse.Namespace) -> None:
    targets = [f"results/predictions/{model}/seed{args.seed}.tsv" for model in args.models]
    planned = jobs(dry_run(targets, args.configfile, args.seed), PIECE_RULES)
    kept = sorted({path for job in planned for path in job["output"] if not path.endswith(".pt")})
    archive = f"piece_{args.seed}_{'_'.join(args.models)}.tar.gz"
    lines = ["#!/usr/bin/env bash", f"# Planned by scripts/gpu_piece.py: seed {args.seed}, {' '.join(args.models)}",
             "set -euo pipefail", 'OUT="${OUT:?set OUT to the folder the results go to}"',
             "start=$(date +%s)"]
    for job in planned:
        folders = sorted({str(Path(path).parent) for path in job["output"] + job["log"]})
        lines += [f"echo '== {job['rule']}: {' '.join(job['output'])}'",
                  f"mkdir -p {' '.join(map(shlex.quote, folders))}",
                  f"t=$(date +%s); {job['command']}",
                  f"echo \"{job['rule']} {job['output'][0]} $(( $(date +%s) - t )) s\" | tee -a logs/piece_times.txt"]
    lines += ['echo "piece seed ' + str(args.seed) + ': $(( $(date +%s) - start )) s on $(nvidia-smi '
              '--query-gpu=name --format=csv,noheader 2>/dev/null || echo cpu)" | tee -a logs/piece_times.txt',
              f"tar -czf \"$OUT/{archive}\" {' '.join(map(shlex.quote, kept))} logs"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"{args.out}: {len(planned)} jobs ({', '.join(job['rule'] for job in planned)}) -> $OUT/{archive}")


def finish(args: argparse.Namespace) -> None:
    # The workflow's own safe extraction (no entry or link may leave the target), then merged into the project.
    with tempfile.TemporaryDirectory(dir=".") as unpacked:
        for index, name in enumerate(args.archives):
            try:
                part = extract_archive(name, Path(unpacked) / f"part{index}")
            except UserError as exc:
                sys.exit(f"error: {exc}")
            shutil.copytree(part, ".", dirs_exist_ok=True)
            print(f"unpacked {name}")
    for job in jobs(dry_run(["report/tables/table1.csv"], args.configfile, None), FINISH_RULES):
        for path in job["output"] + job["log"]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        print(f"== {job['rule']}", flush=True)
        subprocess.run(["bash", "-c", job["command"]], check=True)


def pack_images(args: argparse.Namespace) -> None:
    import csv

    import torch
    from PIL import Image

    from bagnet_repro.data.loading import load_image
    from bagnet_repro.data.split import SPLIT_FILE_NAMES, course_folder

    source, target = Path(args.source), Path(args.out)
    with open(source / args.split_file, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    files = sorted({source / course_folder(row, SPLIT_FILE_NAMES.get(row["report_split"], "")) / row["class"]
                    / row["file"] for row in rows})
    for path in files:
        image = load_image(str(path), args.size)[0]  # the grey channel, resized as training resizes it
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.to(torch.uint8).numpy(), mode="L").save(destination, quality=95)
    (target / args.split_file).write_bytes((source / args.split_file).read_bytes())
    print(f"{target}: {len(files)} images at {args.size} px for {len(rows)} split rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack-images")
    p.add_argument("--source", required=True, help="the 15-scene folder (train/, test/ and the split file)")
    p.add_argument("--split-file", default="REPORT_SPLIT.tsv")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--out", required=True)
    p.set_defaults(run=pack_images)
    p = commands.add_parser("plan")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--models", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--configfile", nargs="+", required=True)
    p.set_defaults(run=plan)
    p = commands.add_parser("finish")
    p.add_argument("archives", nargs="+")
    p.add_argument("--configfile", nargs="+", required=True)
    p.set_defaults(run=finish)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
