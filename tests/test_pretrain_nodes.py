"""Pretraining over several nodes, on the SLURM side: the sbatch request the SLURM executor plugin builds for a
2-node job, and the `srun torchrun ...` line that job runs, each captured by a stand-in for the SLURM command on
PATH that records its arguments (the plugin's own code builds both; no machine here has two nodes). And without a
cluster executor, more than one node is refused at start-up in one line."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from helpers import PROJECT, run_snakemake

CONFIG = """pretrain: {dataset: imagenette, models: [bagnet33_v2], processes: 4, nodes: 2, device: cuda}
weights: {models: {bagnet33_v2: pretrained}}
models: [bagnet33_v2]
"""
WEIGHTS = "results/pretrained/imagenette/bagnet33_v2/weights.pt"
RECORDER = """#!{python}
import json, sys
with open({record!r}, "a") as log:
    log.write(json.dumps({{"argv": sys.argv}}) + "\\n")
print({answer!r}, file=sys.stderr if {status} else sys.stdout)
sys.exit({status})
"""


def stand_ins(folder: Path, record: Path, **answers: tuple[str, int]) -> Path:
    """Commands on PATH that record their arguments to ``record`` and answer (text, exit status)."""
    folder.mkdir()
    for name, (answer, status) in answers.items():
        script = folder / name
        script.write_text(RECORDER.format(python=sys.executable, record=str(record), answer=answer, status=status))
        script.chmod(0o755)
    return folder


def calls(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def pretraining_data_in_place(work: Path) -> None:
    """The split table and what it comes from, oldest first, so the plan holds the pretraining job alone."""
    chain = [
        work / "results/downloads/pretrain/imagenette2-320.tgz",
        work / "results/pretrain/imagenette",
        work / "results/pretrain/imagenette_split.tsv",
    ]
    chain[0].parent.mkdir(parents=True)
    chain[0].write_bytes(b"archive")
    chain[1].mkdir(parents=True)
    chain[2].write_text("split\tclass\tpath\n")
    for age, path in enumerate(reversed(chain)):
        os.utime(path, (1e9 - age * 100, 1e9 - age * 100))


def test_two_node_job_asks_for_both_nodes_and_runs_one_torchrun_agent_per_node(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    pretraining_data_in_place(work)
    (tmp_path / "pretrain.yaml").write_text(CONFIG)
    record = tmp_path / "sbatch.jsonl"
    commands = stand_ins(
        tmp_path / "slurm",
        record,
        sbatch=("sbatch: recorded, not submitted", 1),
        squeue=("", 0),
        scancel=("", 0),
        sacctmgr=("ci", 0),
        sacct=("ci", 0),
    )
    submit = run_snakemake(
        work,
        WEIGHTS,
        "--profile",
        str(PROJECT / "profiles" / "slurm"),
        "--configfile",
        str(tmp_path / "pretrain.yaml"),
        path_first=commands,
        timeout=300,
    )
    assert record.exists(), (submit.stdout + submit.stderr)[-3000:]
    sbatch = next(call for call in calls(record) if call["argv"][0].endswith("sbatch"))  # the first of the tries
    request = sbatch["argv"][1:]  # the plugin runs sbatch through the shell: these are its words
    assert submit.returncode != 0 and "sbatch: recorded, not submitted" in submit.stderr + submit.stdout
    for option in ("--nodes=2", "--ntasks=2", "--gres=gpu:4", "--mem", "-t"):
        assert any(a == option or a.startswith(option) for a in request), (option, request)
    assert not any(a.startswith(("--gpus", "--ntasks-per-gpu")) for a in request), request
    wrap = next(a for a in request if a.startswith("--wrap="))[len("--wrap=") :]
    print("sbatch request:", " ".join(a for a in request if not a.startswith("--wrap=")))

    # The job itself: the plugin's job step, run as sbatch would run it on the job's first node. It waits for the
    # submitting Snakemake's temporary folder, gone once that run stopped: made again here.
    words = shlex.split(wrap)
    Path(words[words.index("--wait-for-files") + 1]).mkdir(exist_ok=True)
    srun_record = tmp_path / "srun.jsonl"
    stand_ins(tmp_path / "node", srun_record, srun=("srun: recorded, not run", 1))
    env = dict(
        os.environ,
        PATH=os.pathsep.join([str(tmp_path / "node"), str(Path(sys.executable).parent), os.environ["PATH"]]),
        SLURM_JOB_ID="4242",
        SLURMD_NODENAME="gpu-node-01",
    )
    try:
        step = subprocess.run(["sh", "-c", wrap], cwd=work, env=env, capture_output=True, text=True, timeout=60)
        output = step.stdout + step.stderr
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode() + (exc.stderr or b"").decode()
    assert srun_record.exists(), output[-3000:]
    (srun,) = calls(srun_record)
    line = " ".join(shlex.quote(a) for a in srun["argv"][1:])
    print("the job runs: srun", line)
    expected_start = (
        "--nodes 2 --ntasks-per-node 1 --cpus-per-task {threads} --gres=gpu:4 --kill-on-bad-exit=0 env "
        "python -m torch.distributed.run --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d "
        "--rdzv-endpoint gpu-node-01:29500 --rdzv-id bagnet-pretrain-4242 --max-restarts 3 -m bagnet_repro pretrain "
    )
    threads = srun["argv"][srun["argv"].index("--cpus-per-task") + 1]
    assert line.startswith(expected_start.format(threads=threads)), line
    assert "--device cuda " in line and line.endswith(f"--threads {threads}")


def test_more_than_one_node_without_a_cluster_executor_is_one_line(tmp_path):
    (tmp_path / "pretrain.yaml").write_text(CONFIG)
    result = run_snakemake(tmp_path, "-n", WEIGHTS, "--configfile", str(tmp_path / "pretrain.yaml"), timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: pretrain.nodes is 2, but only the SLURM executor starts one job on several nodes: run with "
        "--profile profiles/slurm (docs/pretraining.md), or set pretrain.nodes: 1"
    )
    assert not (tmp_path / "results").exists()
