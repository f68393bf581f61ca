"""scripts/gpu_piece.py: a piece planned from Snakemake's own commands runs without Snakemake and is exported
there with export-run; finishing it here imports it with import-run and gives the Table 1 that the workflow gives.
Every misuse is one line and a non-zero exit."""

import os
import subprocess
import sys

import pytest
from test_run_archive import synthetic_archive, tree

from helpers import PROJECT

SCRIPT = str(PROJECT / "scripts" / "gpu_piece.py")
DEMO = str(PROJECT / "configs" / "demo.yaml")

TINY = """models: [bagnet9, resnet50]
weights: {models: {bagnet9: none, resnet50: none}}
train: {recipe: scratch, image_size: 32, epochs: 1, batch_size: 16, warmup_epochs: 0, head: linear}
compute: {device: cpu, threads: 1}
evaluate: {sweep_grids: [1, 2, 4, 8]}
"""


def run(project, *command, **env):
    return subprocess.run(command, cwd=project, env={**os.environ, **env}, capture_output=True, text=True)


@pytest.mark.slow
def test_pieces_run_without_snakemake_and_finish_into_table1(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(f"git -C {PROJECT} archive HEAD | tar -x -C {project}", shell=True, check=True)
    (project / "tiny.yaml").write_text(TINY)
    configs = ["--configfile", "configs/demo.yaml", "tiny.yaml"]
    # The demo images (the piece then lists them itself, as it lists the carried images on the GPU machine).
    assert run(project, "snakemake", "--cores", "1", "results/data/demo", *configs).returncode == 0
    archives = []
    for model in ("bagnet9", "resnet50"):  # two pieces, one model each
        planned = run(
            project,
            sys.executable,
            "scripts/gpu_piece.py",
            "plan",
            "--seed",
            "0",
            "--models",
            model,
            "--out",
            f".gpu/{model}.sh",
            *configs,
        )
        assert planned.returncode == 0, planned.stderr
        assert "4 jobs (inventory, split, train, evaluate)" in planned.stdout
        out = tmp_path / f"out_{model}"
        out.mkdir()
        piece = run(project, "bash", f".gpu/{model}.sh", OUT=str(out))
        assert piece.returncode == 0, piece.stdout[-2000:] + piece.stderr[-2000:]
        assert "train results/models/" in (out / f"piece_0_{model}_times.txt").read_text()
        archives += sorted(str(path) for path in out.glob("*.tar.gz"))
    assert [os.path.basename(a) for a in archives] == ["piece_0_bagnet9.tar.gz", "piece_0_resnet50.tar.gz"]
    subprocess.run(["rm", "-rf", "results/models", "results/metrics", "results/predictions"], cwd=project, check=True)
    finished = run(project, sys.executable, "scripts/gpu_piece.py", "finish", *archives, *configs)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    assert "imported " in finished.stdout
    assert "built by snakemake from the pieces (summarize, table1)" in finished.stdout
    rows = (project / "report/tables/table1.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["bagnet9", "resnet50"]
    assert (project / "results/models/bagnet9/seed0/history.csv").exists()
    assert not list((project / "results/models").rglob("*.pt"))  # the weights stayed where they were trained
    # Snakemake itself now sees Table 1 as up to date: the pieces' files were imported, not copied.
    again = run(project, sys.executable, "-m", "snakemake", "-n", "report/tables/table1.csv", *configs)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, again.stdout[-2000:]


def one_line_error(result):
    """The one error line (a warning line about the piece's checkout may come before it)."""
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("warning: ")]
    assert result.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    return lines[0]


def plan(folder, seed: str, models: str, configfile: str):
    """``gpu_piece.py plan`` of one piece into ``folder``/piece.sh."""
    return run(
        folder,
        sys.executable,
        SCRIPT,
        "plan",
        "--seed",
        seed,
        "--models",
        models,
        "--out",
        "piece.sh",
        "--configfile",
        configfile,
    )


def test_plan_with_a_missing_config_file_is_one_line(tmp_path):
    line = one_line_error(plan(tmp_path, "0", "bagnet9", "nowhere.yaml"))
    assert line == "error: config file not found: nowhere.yaml"
    assert not (tmp_path / "piece.sh").exists()


def test_plan_for_a_seed_or_model_the_config_does_not_list_is_refused(tmp_path):
    line = one_line_error(plan(tmp_path, "777", "bagnet9", DEMO))
    assert "seeds 777 not in the config's seeds [0]" in line and "finish would not use that piece" in line
    line = one_line_error(plan(tmp_path, "0", "vgg11", DEMO))
    assert "models vgg11 not in the config's models" in line
    assert not (tmp_path / "piece.sh").exists()


def test_finish_refuses_a_piece_of_another_seed_and_pieces_that_do_not_cover_table1(tmp_path):
    piece = synthetic_archive(
        tmp_path / "piece_777_bagnet9.tar.gz", {"results/predictions/bagnet9/seed777.tsv": b"split\tlabel\n"}
    )
    work = tmp_path / "work"
    work.mkdir()
    line = one_line_error(run(work, sys.executable, SCRIPT, "finish", str(piece), "--configfile", DEMO))
    assert "results/predictions/bagnet9/seed777.tsv is not a file this workflow writes" in line
    assert tree(work) == {}
    partial = synthetic_archive(tmp_path / "piece_0_bagnet9.tar.gz", {"logs/train/bagnet9_seed0.log": b"ok\n"})
    line = one_line_error(run(work, sys.executable, SCRIPT, "finish", str(partial), "--configfile", DEMO))
    assert "the pieces do not cover" in line and "nothing was run here" in line, line
    assert tree(work) == {"logs": "dir", "logs/train": "dir", "logs/train/bagnet9_seed0.log": b"ok\n"}


def test_pack_images_without_its_folder_or_split_file_is_one_line(tmp_path):
    line = one_line_error(run(tmp_path, sys.executable, SCRIPT, "pack-images", "--source", "absent", "--out", "o"))
    assert line.startswith("error: --source absent is not a folder")
    (tmp_path / "scene15").mkdir()
    line = one_line_error(run(tmp_path, sys.executable, SCRIPT, "pack-images", "--source", "scene15", "--out", "o"))
    assert line.startswith("error: split file not found: scene15/REPORT_SPLIT.tsv")
    (tmp_path / "scene15/REPORT_SPLIT.tsv").write_text("class\tfile\treport_split\nCoast\ta.jpg\ttrain\n")
    line = one_line_error(run(tmp_path, sys.executable, SCRIPT, "pack-images", "--source", "scene15", "--out", "o"))
    assert "scene15/REPORT_SPLIT.tsv lists scene15/" in line and "which is not there" in line
    assert not (tmp_path / "o").exists()
