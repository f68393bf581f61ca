"""Time a finished run's round trip: export it, import it into a fresh clone, plan, rebuild the PDF there.

    python benchmarks/run_archive.py --run FINISHED_RUN_FOLDER \\
        --out benchmarks/results/run_archive_demo_cpu_2threads.json

FINISHED_RUN_FOLDER is a folder where ``configs/demo.yaml`` (or ``--configfile``) ran to its end, for example a
clone after ``bash scripts/demo.sh``. Writes the archive's size and file count, the export and import times, the
jobs Snakemake plans after the import (none expected), and the time to rebuild the PDF from the imported files.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def _timed(command: list[str], cwd: Path, code: Path) -> tuple[float, subprocess.CompletedProcess]:
    # The jobs' `python` is this one (its venv), as in an activated venv.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")])
    env = dict(os.environ, PYTHONPATH=str(code / "src"), PATH=path)
    start = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed in {cwd}: {result.stderr.strip()[-2000:]}")
    return time.monotonic() - start, result


def _files_in(archive: Path) -> int:
    """The number of files the archive's manifest (its first member) lists."""
    with tarfile.open(archive) as tar:
        return len(json.loads(tar.extractfile(tar.next()).read())["files"])


def _planned(clone: Path, configfile: str) -> list[str]:
    """The rules a dry run would run in ``clone``, from Snakemake's API."""
    sys.path.insert(0, str(clone / "src"))
    from bagnet_repro.runs.workflow_dag import planned_rules

    return planned_rules(clone, [configfile], snakefile=clone / "Snakefile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, type=Path, help="a folder where the workflow ran to its end")
    parser.add_argument(
        "--code", type=Path, help="the checkout whose workflow made the run (default: the run folder, else this one)"
    )
    parser.add_argument("--configfile", default="configs/demo.yaml", help="relative to the project")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    python, config, run = sys.executable, args.configfile, args.run.resolve()
    code = args.code.resolve() if args.code else run if (run / "src" / "bagnet_repro").is_dir() else PROJECT
    with tempfile.TemporaryDirectory(prefix="run-archive-") as scratch:
        archive, clone = Path(scratch) / "run.tar.gz", Path(scratch) / "clone"
        export_s, _ = _timed(
            [python, "-m", "bagnet_repro", "export-run", str(archive), "--configfile", str(code / config)], run, code
        )
        subprocess.run(["git", "clone", "-q", str(PROJECT), str(clone)], check=True)
        import_s, imported = _timed(
            [python, "-m", "bagnet_repro", "import-run", str(archive), "--configfile", config], clone, clone
        )
        planned_after_import = _planned(clone, config)
        (clone / "report/paper.pdf").unlink()
        (clone / "results/paper/values.json").unlink()
        planned_without_pdf = _planned(clone, config)
        rebuild_s, _ = _timed([python, "-m", "snakemake", "--cores", "1", "--configfile", config], clone, clone)
        result = {
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "config": config,
            "run_inside_its_checkout": code == run,  # else made with -s CODE/Snakefile --directory RUN
            "commit": subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True
            ).stdout.strip(),
            "archive_bytes": archive.stat().st_size,
            "archive_files": _files_in(archive),
            "export_s": round(export_s, 1),
            "import_s": round(import_s, 1),
            "import_said": imported.stdout.strip(),
            "planned_after_import": planned_after_import,
            "planned_without_pdf": planned_without_pdf,
            "rebuild_pdf_s": round(rebuild_s, 1),
            "planned_after_rebuild": _planned(clone, config),
            "data_images_needed": (clone / "results/data/demo").exists(),
        }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
