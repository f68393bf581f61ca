"""How the pretraining job is started: torchrun on one node, or one torchrun agent per node under ``srun`` with a
c10d rendezvous on the job's first node, and what the job asks SLURM for (torch-free: the Snakefile plans with it).

On one node ``torchrun --standalone`` picks a free rendezvous port, so several jobs can share a node. On several
nodes the job is one SLURM allocation of ``nodes`` nodes with one task each: the rule's shell runs on the job's
first node (the batch host), whose name SLURM gives as ``SLURMD_NODENAME``; ``srun`` starts one agent per node,
and the agents meet there under the job's id. Either way ``--max-restarts`` lets torchrun restart every rank from
the newest checkpoint when one process (or one agent's rendezvous) is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from .executors import chosen_executor

# Executors that start the job on several nodes: the SLURM plugin, and its job step inside the allocation.
MULTI_NODE_EXECUTORS = ("slurm", "slurm-jobstep")


def torchrun_launch(
    torchrun: str,
    nodes: int,
    processes: int,
    max_restarts: int,
    port: int,
    threads: int,
    gpus_per_node: int,
) -> str:
    """The command line up to the module torchrun runs (``-m bagnet_repro pretrain ...`` follows it).

    ``torchrun`` is the torchrun command (maybe prefixed with environment assignments); on several nodes it
    runs under ``env`` so that ``srun`` starts it with them. ``threads`` CPU cores and ``gpus_per_node`` GPUs
    are those of each node's task."""
    restarts = f"--max-restarts {max_restarts}"
    if nodes == 1:
        return f"{torchrun} --standalone --nnodes 1 --nproc-per-node {processes} {restarts}"
    gres = f" --gres=gpu:{gpus_per_node}" if gpus_per_node else ""
    return (
        f"srun --nodes {nodes} --ntasks-per-node 1 --cpus-per-task {threads}{gres} --kill-on-bad-exit=0 "
        f"env {torchrun} --nnodes {nodes} --nproc-per-node {processes} --rdzv-backend c10d "
        f'--rdzv-endpoint "$SLURMD_NODENAME:{port}" --rdzv-id "bagnet-pretrain-$SLURM_JOB_ID" {restarts}'
    )


def pretrain_job_resources(nodes: int, threads: object, gpus_per_node: int, one_node_gpus: dict) -> dict:
    """The rule's resources. One node: ``one_node_gpus`` (the GPUs as ``planning.gpu_resources`` asks for them)
    and one node. Several: that many nodes with one task each (``mpi``: the SLURM job step runs the rule's own
    ``srun`` instead of wrapping it in one), each task with ``threads`` cores (the job's threads, or a Snakemake
    resource function giving them) and ``gpus_per_node`` GPUs (``--gres`` counts per node, where ``--gpus``
    would count over the job)."""
    if nodes == 1:
        return {**one_node_gpus, "nodes": 1}
    resources: dict = {"nodes": nodes, "tasks": nodes, "mpi": "srun", "cpus_per_task": threads, "tasks_per_gpu": 0}
    if gpus_per_node:
        resources["gres"] = f"gpu:{gpus_per_node}"
    return resources


def multi_node_refusal(nodes: int, argv: Sequence[str], env) -> str | None:
    """Why ``pretrain.nodes`` cannot be honoured by this run (no cluster executor), or None."""
    if nodes == 1:
        return None
    executor, _ = chosen_executor(argv, env)
    if executor in MULTI_NODE_EXECUTORS:
        return None
    return (
        f"pretrain.nodes is {nodes}, but only the SLURM executor starts one job on several nodes: run with "
        "--profile profiles/slurm (docs/pretraining.md), or set pretrain.nodes: 1"
    )
