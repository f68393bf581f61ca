"""DDP pretraining on 2 CPU ranks (gloo) through torchrun: the replicas stay bitwise equal, early stopping
ends every rank, a run killed with SIGKILL resumes and ends with the weights of an uninterrupted run, and
the weights fine-tune on the 15 scenes."""

import contextlib
import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bagnet_repro.compute.accounting import read_record
from bagnet_repro.data.imagenet import holdout_split
from bagnet_repro.models import build_model
from bagnet_repro.training.distributed import state_digest
from helpers import PROJECT, run_cli

OPTIONS = '{"epochs": %d, "batch_size": 8, "image_size": 32, "precision": "fp32", "patience": %d, "min_delta": %g}'


@pytest.fixture(scope="module")
def split_table(tmp_path_factory):
    """4 classes x 12 coloured-noise JPEGs in class folders, split 75/25 by class."""
    root = tmp_path_factory.mktemp("pretrain")
    rng = np.random.default_rng(0)
    for c in range(4):
        folder = root / "train" / f"n0000000{c}"
        folder.mkdir(parents=True)
        for index in range(12):
            pixels = (rng.random((40, 48, 3)) * 60).astype(np.uint8)
            pixels[..., c % 3] += 120 + 20 * (c // 3)
            Image.fromarray(pixels).save(folder / f"image_{index}.JPEG", format="JPEG")
    holdout_split(root / "train", root / "split.tsv", holdout=0.25, seed=42)
    return root / "split.tsv"


def torchrun(
    split,
    out_dir: Path,
    epochs=3,
    patience=0,
    min_delta=0.0,
    nproc=2,
    launch=("--standalone", "--nnodes", "1"),
    threads=2,
) -> subprocess.Popen:
    """One torchrun agent with ``nproc`` CPU ranks sharing ``threads``; ``launch``: its rendezvous options."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        *launch,
        "--nproc-per-node",
        str(nproc),
        "-m",
        "bagnet_repro",
        "pretrain",
        "--split",
        str(split),
        "--model",
        "bagnet9",
        "--out",
        str(out_dir / "weights.pt"),
        "--history",
        str(out_dir / "history.csv"),
        "--checkpoint",
        str(out_dir / "checkpoint" / "last.pt"),
        "--workers",
        "1",
        "--device",
        "cpu",
        "--recipe",
        "bagnets_v2",
        "--seed",
        "0",
        "--threads",
        str(threads),
        "--options",
        OPTIONS % (epochs, patience, min_delta),
    ]
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"), OMP_NUM_THREADS="1")
    log = open(out_dir / "log.txt", "a")  # noqa: SIM115 (the child writes to it after this returns)
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def finish(process: subprocess.Popen, out_dir: Path) -> str:
    assert process.wait(timeout=300) == 0, (out_dir / "log.txt").read_text()[-3000:]
    return (out_dir / "log.txt").read_text()


def history(out_dir: Path) -> list[dict]:
    with open(out_dir / "history.csv") as handle:
        return list(csv.DictReader(handle))


def descendants(pid: int) -> list[int]:
    """All processes below ``pid`` (torchrun starts its workers in sessions of their own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture(scope="module")
def uninterrupted(split_table, tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    finish(torchrun(split_table, out), out)
    return out


def test_two_cpu_ranks_keep_bitwise_equal_replicas(uninterrupted):
    rows = history(uninterrupted)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for row in rows:
        digests = row["rank_digests"].split()
        assert len(digests) == 2 and digests[0] == digests[1]
    # Rank 1's digest of the best epoch, computed in its own process, equals that of the weights rank 0 saved.
    saved = torch.load(uninterrupted / "weights.pt", map_location="cpu", weights_only=True)
    best_row = next(r for r in rows if int(r["epoch"]) == saved["epoch"])
    assert state_digest(saved["state_dict"]) == best_row["rank_digests"].split()[1]
    assert not (uninterrupted / "checkpoint" / "last.pt").exists()  # a finished run deletes its checkpoint
    assert len({r["rank_digests"] for r in rows}) == 3  # the weights did change every epoch
    assert all(float(r["val_top5"]) == 1.0 for r in rows)  # 4 classes: the top 5 always hold the label
    # Rank 0 keeps the compute record beside the weights: one attempt, its three epochs, on the CPU.
    record = read_record(uninterrupted / "weights.compute.json")
    (attempt,) = record["attempts"]
    assert (record["stage"], record["model"], attempt["status"], attempt["epochs"]) == (
        "pretrain",
        "bagnet9",
        "succeeded",
        3,
    )
    assert attempt["gpus"] == 0 and attempt["numerics"]["autocast_dtype"] == "none (fp32)"


def test_killed_run_resumes_and_matches_an_uninterrupted_one(split_table, uninterrupted, tmp_path):
    process = torchrun(split_table, tmp_path)
    checkpoint = tmp_path / "checkpoint" / "last.pt"
    deadline = time.monotonic() + 240
    while not checkpoint.exists():
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "log.txt").read_text()
        time.sleep(0.02)
    for pid in [process.pid, *descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "weights.pt").exists()
    log = finish(torchrun(split_table, tmp_path), tmp_path)
    assert "resuming bagnet9 after epoch 1 " in log or "resuming bagnet9 after epoch 2 " in log, log[-2000:]
    resumed = torch.load(tmp_path / "weights.pt", weights_only=True)
    reference = torch.load(uninterrupted / "weights.pt", weights_only=True)
    assert resumed["epoch"] == reference["epoch"]
    for key, tensor in reference["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], tensor), key
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in history(tmp_path)]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in history(uninterrupted)]
    killed, succeeded = read_record(tmp_path / "weights.compute.json")["attempts"]
    assert (killed["status"], succeeded["status"]) == ("killed", "succeeded")
    assert killed["epochs"] + succeeded["epochs"] >= 3 and succeeded["first_epoch"] in (2, 3)


def test_early_stopping_ends_every_rank_at_the_same_epoch(split_table, tmp_path):
    # min_delta so large that no epoch after the first counts as an improvement: stop after epoch 3.
    log = finish(torchrun(split_table, tmp_path, epochs=8, patience=2, min_delta=1e9), tmp_path)
    assert [int(r["epoch"]) for r in history(tmp_path)] == [1, 2, 3]
    assert "early stop on all ranks: no val_loss improvement for 2 epochs" in log


def test_pretrained_weights_fine_tune_on_the_scenes(uninterrupted):
    model = build_model("bagnet9", 15, weights=str(uninterrupted / "weights.pt"), head="report")
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 15)
    pretrained = torch.load(uninterrupted / "weights.pt", weights_only=True)
    assert pretrained["classes"] == [f"n0000000{c}" for c in range(4)] and pretrained["processes"] == 2
    assert torch.equal(model.conv2.weight, pretrained["state_dict"]["conv2.weight"])


def test_one_process_without_torchrun_and_bad_inputs(split_table, tmp_path):
    common = [
        "pretrain",
        "--model",
        "bagnet9",
        "--out",
        str(tmp_path / "w.pt"),
        "--history",
        str(tmp_path / "h.csv"),
        "--checkpoint",
        str(tmp_path / "c.pt"),
        "--workers",
        "0",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--recipe",
        "bagnets_v2",
        "--seed",
        "0",
    ]
    result = run_cli(*common, "--split", str(split_table), "--options", OPTIONS % (1, 0, 0))
    assert result.returncode == 0, result.stderr
    assert '"processes": 1' in result.stdout and (tmp_path / "w.pt").exists()
    missing = run_cli(*common, "--split", str(tmp_path / "nope.tsv"))
    assert missing.returncode == 1 and missing.stderr.strip().splitlines()[-1] == (
        f"error: split table not found: {tmp_path / 'nope.tsv'}"
    )
    bad = run_cli(
        *common, "--split", str(split_table), "--options", '{"epochs": 1, "augment": "modern", "image_size": 32}'
    )
    assert bad.returncode == 1 and "set augment and mix to none" in bad.stderr
    broken = tmp_path / "broken.tsv"
    rows = split_table.read_text().splitlines()
    bad_image = tmp_path / "not_an_image.JPEG"
    bad_image.write_bytes(b"truncated")
    broken.write_text("\n".join(rows[:2] + [f"train\tn00000000\t{bad_image}"] + rows[2:]) + "\n")
    in_a_worker = list(common)
    in_a_worker[in_a_worker.index("--workers") + 1] = "1"  # the error is raised in a loader process
    unreadable = run_cli(*in_a_worker, "--split", str(broken), "--options", OPTIONS % (1, 0, 0))
    assert unreadable.returncode == 1
    assert unreadable.stderr.strip().splitlines()[-1].startswith(f"error: cannot read image {bad_image}: ")
    (tmp_path / "w.pt").unlink()
    diverged = run_cli(
        *common, "--split", str(split_table), "--options", '{"epochs": 2, "lr": 1e9, "batch_size": 8, "image_size": 32}'
    )
    assert diverged.returncode == 1 and not (tmp_path / "w.pt").exists()
    assert re.search(
        r"error: pretraining bagnet9: (non-finite loss|the validation loss is not finite)", diverged.stderr
    ), diverged.stderr[-2000:]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_ranks_use_syncbatchnorm_and_fp16(split_table, tmp_path):
    nproc = min(2, torch.cuda.device_count())
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        str(nproc),
        "-m",
        "bagnet_repro",
        "pretrain",
        "--split",
        str(split_table),
        "--model",
        "bagnet9",
        "--out",
        str(tmp_path / "w.pt"),
        "--history",
        str(tmp_path / "history.csv"),
        "--checkpoint",
        str(tmp_path / "c.pt"),
        "--workers",
        "1",
        "--device",
        "cuda",
        "--threads",
        "2",
        "--recipe",
        "bagnets_v2",
        "--seed",
        "0",
        "--options",
        '{"epochs": 2, "batch_size": 8, "image_size": 32, "precision": "fp16"}',
    ]
    result = subprocess.run(
        command, env=dict(os.environ, PYTHONPATH=str(PROJECT / "src")), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert all(len(set(r["rank_digests"].split())) == 1 for r in history(tmp_path))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def two_node_launch(port: int, run_id: str, restarts: int = 0) -> tuple[str, ...]:
    """What the rule's srun line gives each agent (docs/pretraining.md), with localhost as the first node."""
    return (
        *("--nnodes", "2", "--rdzv-backend", "c10d", "--rdzv-endpoint", f"localhost:{port}"),
        *("--rdzv-id", run_id, "--max-restarts", str(restarts)),
    )


def same_weights(run: Path, reference: Path) -> None:
    ran = torch.load(run / "weights.pt", weights_only=True)
    expected = torch.load(reference / "weights.pt", weights_only=True)
    assert (ran["epoch"], ran["processes"]) == (expected["epoch"], expected["processes"])
    for key, tensor in expected["state_dict"].items():
        assert torch.equal(ran["state_dict"][key], tensor), key
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in history(run)]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in history(reference)]


@pytest.fixture(scope="module")
def four_ranks_on_one_node(split_table, tmp_path_factory):
    out = tmp_path_factory.mktemp("four_ranks")
    finish(torchrun(split_table, out, epochs=2, nproc=4), out)
    return out


@pytest.mark.slow
def test_two_agents_of_two_ranks_train_as_one_agent_of_four(split_table, four_ranks_on_one_node, tmp_path):
    """2 nodes x 2 ranks (two agents, c10d rendezvous on localhost) against 1 node x 4 ranks: bitwise the same
    weights and history (same global batch, learning rate and per-rank shards; gloo sums in the same order)."""
    launch = two_node_launch(free_port(), "two-agents")
    agents = [torchrun(split_table, tmp_path, epochs=2, launch=launch) for _ in range(2)]
    for agent in agents:
        finish(agent, tmp_path)
    log = (tmp_path / "log.txt").read_text()
    for rank in range(4):  # every process names its node, local and global rank
        assert re.search(rf"rank {rank} of 4 \(local rank {rank % 2} of 2\) on node \S+ \(node rank [01]\)", log), log
    same_weights(tmp_path, four_ranks_on_one_node)


@pytest.mark.slow
def test_a_lost_agent_ends_the_job_and_the_next_one_resumes_from_the_checkpoint(split_table, uninterrupted, tmp_path):
    """kill -9 the second of two agents (and its ranks) in the middle of epoch 2, as a lost node does; the job
    then ends (SLURM ends a job that lost a node; here the first agent is killed too), and the next job (two new
    agents, a new rendezvous id, as Snakemake's retry) resumes from epoch 1's checkpoint and ends with the weights
    of an uninterrupted run. One rank per agent: DDP sums the gradients of a fresh process's first step in other
    buckets than a running one's, and only a sum of two is the same in any order (docs/pretraining.md); one thread
    per rank, as in the reference."""
    run = tmp_path
    port = free_port()
    launch = two_node_launch(port, "job-1")
    # The first agent holds the rendezvous, as the job's first node does.
    first = torchrun(split_table, run, nproc=1, launch=launch, threads=1)
    deadline = time.monotonic() + 120
    while not listening(port):
        assert first.poll() is None and time.monotonic() < deadline, (run / "log.txt").read_text()
        time.sleep(0.1)
    second = torchrun(split_table, run, nproc=1, launch=launch, threads=1)
    checkpoint = run / "checkpoint" / "last.pt"
    deadline = time.monotonic() + 240
    while not checkpoint.exists():
        assert first.poll() is None and time.monotonic() < deadline, (run / "log.txt").read_text()
        time.sleep(0.02)
    time.sleep(1.0)  # into epoch 2
    for agent in (second, first):
        for pid in [agent.pid, *descendants(agent.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        agent.wait()
    before = (run / "log.txt").read_text()
    assert "bagnet9 epoch 2/3" not in before and not (run / "weights.pt").exists(), "the kill came after epoch 2"
    launch = two_node_launch(free_port(), "job-2")
    agents = [torchrun(split_table, run, nproc=1, launch=launch, threads=1) for _ in range(2)]
    log = "".join(finish(agent, run) for agent in agents)
    assert "resuming bagnet9 after epoch 1 " in log[len(before) :], log[-3000:]
    same_weights(run, uninterrupted)
