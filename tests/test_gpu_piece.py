"""scripts/gpu_piece.py: a piece planned from Snakemake's own commands runs without Snakemake, and finishing
it here gives the Table 1 that the workflow gives."""

import os
import subprocess
import sys

import pytest

from helpers import PROJECT

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
        planned = run(project, sys.executable, "scripts/gpu_piece.py", "plan", "--seed", "0", "--models", model,
                      "--out", f".gpu/{model}.sh", *configs)
        assert planned.returncode == 0, planned.stderr
        assert "4 jobs (inventory, split, train, evaluate)" in planned.stdout
        out = tmp_path / f"out_{model}"
        out.mkdir()
        piece = run(project, "bash", f".gpu/{model}.sh", OUT=str(out))
        assert piece.returncode == 0, piece.stdout[-2000:] + piece.stderr[-2000:]
        assert "train results/models/" in (project / "logs/piece_times.txt").read_text()
        archives += sorted(str(path) for path in out.iterdir())
    assert [os.path.basename(a) for a in archives] == ["piece_0_bagnet9.tar.gz", "piece_0_resnet50.tar.gz"]
    subprocess.run(["rm", "-rf", "results/models", "results/metrics", "results/predictions"], cwd=project, check=True)
    finished = run(project, sys.executable, "scripts/gpu_piece.py", "finish", *archives, *configs)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    rows = (project / "report/tables/table1.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["bagnet9", "resnet50"]
    assert (project / "results/models/bagnet9/seed0/history.csv").exists()
    assert not list((project / "results/models").rglob("*.pt"))  # the weights stayed where they were trained
