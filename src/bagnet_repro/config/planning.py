"""Torch-free decisions the workflow makes while it plans (on a login node, in Snakemake's own environment).

Each answer comes from the config alone, never from the planning host: the jobs may run elsewhere."""

from __future__ import annotations


def gpus_for_device(device: str, per_job: int = 1) -> int:
    """GPUs a job on ``device`` asks the scheduler for: none on ``cpu``, ``per_job`` otherwise.

    ``auto`` asks for them too: the scheduler then never runs more GPU jobs than it has GPUs, and a job
    that lands where CUDA is missing runs on the CPU. A machine without GPUs says ``compute.device: cpu``."""
    if device == "cpu":
        return 0
    if device == "auto" or device == "cuda" or device.startswith("cuda:"):
        return per_job
    raise ValueError(f"unknown device {device!r}: auto, cpu, cuda or cuda:N")


# Runtime (minutes) and memory (MB) of each sized rule's jobs: what a scheduler reserves (a local run ignores them
# unless --resources mem_mb=... caps the memory). They are the rules' own resources, not the profile's
# set-resources, so that a user's `use rule ... with: resources:` (or --set-resources) overrides them; rules not
# listed take the profile's default-resources.
JOB_SIZES: dict[str, dict[str, int]] = {
    "train": {"runtime": 720, "mem_mb": 32000},
    "evaluate": {"runtime": 60, "mem_mb": 16000},
    "heatmaps": {"runtime": 60, "mem_mb": 16000},
    "precision": {"runtime": 60, "mem_mb": 16000},
    "feature_amount_run": {"runtime": 720, "mem_mb": 16000},  # one variant: 150 epochs of CIFAR at 32 px
    "pretrain": {"runtime": 4320, "mem_mb": 128000},
    "receptive_fields": {"runtime": 30, "mem_mb": 8000},
    "backbone_table": {"runtime": 60, "mem_mb": 16000},  # latency of 28 backbones at batch 1 and 32
}


def gpu_resources(count: int, kind: str = "gpu") -> dict[str, int | str]:
    """The resources that ask a scheduler for ``count`` GPUs: ``gpu`` (SLURM's --gpus) or ``gres``
    (--gres=gpu:N, where a cluster refuses --gpus). The SLURM plugin refuses both at once, so one only."""
    if not count:
        return {}
    if kind == "gres":
        return {"gres": f"gpu:{count}"}
    if kind == "gpu":
        return {"gpu": count}
    raise ValueError(f"unknown GPU resource {kind!r}: gpu or gres")


def weights_arguments(value: str | dict, cache: str | None) -> list[str]:
    """``--weights ... [--weights-sha256 ...] [--weights-cache ...]``: a config's weights entry for the CLI."""
    arguments = ["--weights", value["url"] if isinstance(value, dict) else value]
    if isinstance(value, dict) and value.get("sha256"):
        arguments += ["--weights-sha256", value["sha256"]]
    if cache:
        arguments += ["--weights-cache", cache]
    return [str(argument) for argument in arguments]
