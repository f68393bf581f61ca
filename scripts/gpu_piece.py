"""Run part of a workflow on a machine without Snakemake (a lent GPU box), then finish it here.

    python scripts/gpu_piece.py pack-images --source ../shared/data/scene15 --out .gpu/scene15
    python scripts/gpu_piece.py plan --seed 152 --models bagnet33 resnet50 --out .gpu/piece.sh \
        --configfile configs/scene15_scratch.yaml .gpu/config.yaml
    # on the GPU machine, from the repository root (.gpu carried): OUT=... bash .gpu/piece.sh
    python scripts/gpu_piece.py finish piece_152_*.tar.gz --configfile configs/scene15_scratch.yaml .gpu/config.yaml

``pack-images`` copies the images a split file lists, resized to the training size and re-encoded (JPEG
quality 95), into a folder small enough to travel with the working tree (the report split's 2,700 images
at 224 px: about 50 MB); an extra config points ``data.local_dir`` and ``data.split_file`` there.
``plan`` asks Snakemake's API for the jobs that make those models' test predictions for that seed (inventory,
split, train, evaluate, in that order) with their shell commands, and writes them into one script that stops
at the first failure, times each job, and exports what the rest of the workflow reads with
``bagnet-repro export-run --no-weights`` (the data tables, histories, metrics, per-image predictions and the
logs; not the weights, too large to travel back) into ``$OUT/piece_<seed>_<models>.tar.gz``. ``finish``
imports such archives with ``bagnet-repro import-run`` (checked against their manifests, only the workflow's
own files under results/ and logs/), checks with Snakemake's API that they cover every training and
evaluation Table 1 needs, and lets Snakemake build the rest (see docs/moving-runs.md).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from bagnet_repro.errors import UserError  # noqa: E402 (the package is found through PROJECT)
from bagnet_repro.runs.workflow_dag import describe_job, open_workflow, planned_jobs  # noqa: E402

PIECE_RULES = ("inventory", "split", "train", "evaluate")  # in dependency order
FINISH_RULES = ("summarize", "table1")
TABLE1 = "report/tables/table1.csv"
SNAKEFILE = PROJECT / "Snakefile"  # the run itself lives in the working folder, as with snakemake


def _check_choice(config: dict, key: str, wanted: list, configfiles: list[str]) -> None:
    """A piece for a seed or model the config does not list would be made, and then ignored by finish."""
    outside = [value for value in wanted if value not in config[key]]
    if outside:
        raise UserError(
            f"{key} {' '.join(map(str, outside))} not in the config's {key} {config[key]} "
            f"({' '.join(configfiles)}): finish would not use that piece; add it there or pick "
            "from them"
        )


def plan(args: argparse.Namespace) -> None:
    targets = [f"results/predictions/{model}/seed{args.seed}.tsv" for model in args.models]
    with open_workflow(Path.cwd(), args.configfile, snakefile=SNAKEFILE, dag=False) as workflow:
        _check_choice(workflow.config, "seeds", [args.seed], args.configfile)
        _check_choice(workflow.config, "models", args.models, args.configfile)
        config = json.loads(json.dumps(workflow.config, default=str))
    with open_workflow(Path.cwd(), args.configfile, targets=targets, forceall=True, snakefile=SNAKEFILE) as workflow:
        planned = sorted(
            (describe_job(job) for job in planned_jobs(workflow) if job.rule.name in PIECE_RULES),
            key=lambda job: PIECE_RULES.index(job["rule"]),
        )
    name = f"piece_{args.seed}_{'_'.join(args.models)}"
    out = Path(args.out)
    listing = out.with_name(f"{out.name}.files.json")  # what export-run packs there, without Snakemake
    files = sorted(
        {path for job in planned for path in job["output"] + job["log"]}
        - {path for job in planned for path in job["directories"]}
    )
    lines = [
        "#!/usr/bin/env bash",
        f"# Planned by scripts/gpu_piece.py: seed {args.seed}, {' '.join(args.models)}",
        "set -euo pipefail",
        'OUT="${OUT:?set OUT to the folder the results go to}"',
        f'TIMES="$OUT/{name}_times.txt"',
        "start=$(date +%s)",
    ]
    for job in planned:
        command = job["command"].replace(str(PROJECT), "$PWD")  # runs from the other checkout's root
        folders = sorted({str(Path(path).parent) for path in job["output"] + job["log"]})
        lines += [
            f"echo '== {job['rule']}: {' '.join(job['output'])}'",
            f"mkdir -p {' '.join(map(shlex.quote, folders))}",
            f"t=$(date +%s); {command}",
            f'echo "{job["rule"]} {job["output"][0]} $(( $(date +%s) - t )) s" | tee -a "$TIMES"',
        ]
    lines += [
        'echo "piece seed ' + str(args.seed) + ": $(( $(date +%s) - start )) s on $(nvidia-smi "
        '--query-gpu=name --format=csv,noheader 2>/dev/null || echo cpu)" | tee -a "$TIMES"',
        (
            f'PYTHONPATH="$PWD/src" python -m bagnet_repro export-run "$OUT/{name}.tar.gz" --no-weights '
            f"--files-from {shlex.quote(str(listing))}"
        ),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text(json.dumps({"files": files, "config": config}, indent=1) + "\n")
    out.write_text("\n".join(lines) + "\n")
    print(f"{out}: {len(planned)} jobs ({', '.join(job['rule'] for job in planned)}) -> $OUT/{name}.tar.gz")


def finish(args: argparse.Namespace) -> None:
    from bagnet_repro.runs.importing import import_run

    for archive in args.archives:
        summary = import_run(
            archive, Path.cwd(), args.configfile, force=args.force, snakefile=SNAKEFILE, keep_logs=True
        )  # every piece holds the shared data jobs' logs
        if summary["warnings"]:
            print(f"warning: {archive} comes from another checkout: {'; '.join(summary['warnings'])}", file=sys.stderr)
        kept = f" (kept {len(summary['kept_logs'])} logs of the shared data jobs here)" if summary["kept_logs"] else ""
        print(f"imported {archive}: {summary['files']} files{kept}")
    with open_workflow(Path.cwd(), args.configfile, targets=[TABLE1], snakefile=SNAKEFILE) as workflow:
        planned = [describe_job(job) for job in planned_jobs(workflow)]
    missing = [job for job in planned if job["rule"] not in FINISH_RULES]
    if missing:
        first = missing[0]["output"][0] if missing[0]["output"] else missing[0]["rule"]
        raise UserError(
            f"the pieces do not cover {len(missing)} jobs Table 1 needs (first: rule "
            f"{missing[0]['rule']} for {first}); plan and run their pieces, nothing was run here"
        )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(SNAKEFILE),
            "--cores",
            "1",
            TABLE1,
            "--configfile",
            *args.configfile,
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise UserError(f"snakemake could not build {TABLE1}: {_failed_job(planned)}")
    print(f"{TABLE1}: built by snakemake from the pieces ({', '.join(job['rule'] for job in planned) or 'up to date'})")


def _failed_job(planned: list[dict]) -> str:
    """The cause, from the log of the first job that left no output: its last line and where it is."""
    for job in planned:
        if not all(Path(path).exists() for path in job["output"]):
            for log in job["log"]:
                lines = Path(log).read_text(errors="replace").strip().splitlines() if Path(log).is_file() else []
                if lines:
                    return f"rule {job['rule']}: {lines[-1].strip()} (full log: {log})"
            return f"rule {job['rule']} failed without a log"
    return "see snakemake's own log under .snakemake/log/"


def pack_images(args: argparse.Namespace) -> None:
    import csv

    source, target = Path(args.source), Path(args.out)
    if not source.is_dir():
        raise UserError(f"--source {source} is not a folder (the 15-scene copy with train/, test/ and the split file)")
    split_file = source / args.split_file
    if not split_file.is_file():
        raise UserError(f"split file not found: {split_file} (--split-file names it, inside --source)")

    import torch
    from PIL import Image

    from bagnet_repro.data.loading import load_image
    from bagnet_repro.data.split import SPLIT_FILE_NAMES, course_folder

    with open(split_file, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    try:
        files = sorted(
            {
                source / course_folder(row, SPLIT_FILE_NAMES.get(row["report_split"], "")) / row["class"] / row["file"]
                for row in rows
            }
        )
    except (KeyError, TypeError) as exc:
        raise UserError(f"{split_file}: not a split file (no column {exc})") from None
    absent = [path for path in files if not path.is_file()]
    if absent:
        raise UserError(f"{split_file} lists {absent[0]}, which is not there ({len(absent)} such)")
    for path in files:
        image = load_image(str(path), args.size)[0]  # the grey channel, resized as training resizes it
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.to(torch.uint8).numpy(), mode="L").save(destination, quality=95)
    (target / args.split_file).write_bytes(split_file.read_bytes())
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
    p.add_argument("--force", action="store_true", help="replace files here that differ from the pieces'")
    p.set_defaults(run=finish)
    args = parser.parse_args()
    try:
        args.run(args)
    except UserError as exc:
        sys.exit(f"error: {exc}")
    except OSError as exc:
        sys.exit(f"error: {exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")


if __name__ == "__main__":
    main()
