"""Profiles as Snakemake documents them: profiles/default (the workflow profile, read on every run) sizes
each rule's jobs, profiles/slurm is a global cluster profile, and the GPU requests come from the config, so
any user's own SLURM profile gets them. (The real SLURM run is tests/cluster/slurm_demo.sh, run by .ci/run.)"""

import re

import pytest
import yaml
from planned import device_rules, dry_run_jobs
from snakemake_executor_plugin_slurm.partitions import read_partition_file

from helpers import PROJECT

SLURM = ("--profile", str(PROJECT / "profiles" / "slurm"))


@pytest.fixture(scope="module")
def gpu_rules(tmp_path_factory):
    """The rules whose jobs run on compute.device (pretraining asks for its own count, checked below)."""
    return device_rules(tmp_path_factory.mktemp("rules")) - {"pretrain"}


def _by_rule(jobs):
    found = {}
    for job in jobs:
        found.setdefault(job["rule"], []).append(job)
    return found


def test_slurm_profile_sizes_gpu_and_cpu_jobs(tmp_path, gpu_rules):
    config = tmp_path / "cuda.yaml"
    config.write_text("compute: {device: cuda}\n")
    jobs = _by_rule(dry_run_jobs(tmp_path, *SLURM, "--configfile", str(config)))
    assert len(jobs["train"]) == 7
    for job in jobs["train"]:
        resources = job["resources"]
        assert resources["gpu"] == "1" and resources["runtime"] == "720" and resources["mem_mb"] == "32000"
    audit = jobs["audit"][0]["resources"]
    assert "gpu" not in audit and "gres" not in audit
    assert audit["runtime"] == "30" and audit["mem_mb"] == "4000"  # the cluster profile's default-resources
    # No account or partition is written into the profile: the plugin picks the partition from
    # partitions.yaml (or the cluster's default) and guesses the account, never a literal "$VARIABLE".
    for job in (job for group in jobs.values() for job in group):
        assert not any(key.startswith("slurm_") for key in job["resources"]), job
        assert "$" not in " ".join(job["resources"].values())
    assert {"train", "evaluate", "backbone_table"} <= gpu_rules & set(jobs)
    for rule in gpu_rules & set(jobs):
        assert all(job["resources"].get("gpu") == "1" for job in jobs[rule]), rule


def test_gres_instead_of_gpus(tmp_path, gpu_rules):
    jobs = _by_rule(dry_run_jobs(tmp_path, *SLURM, "--config", "compute={device: cuda, gpu_resource: gres}"))
    for rule in gpu_rules & set(jobs):
        for job in jobs[rule]:
            assert job["resources"].get("gres") == "gpu:1" and "gpu" not in job["resources"], job


def test_pretraining_is_one_job_on_one_node_with_all_its_gpus(tmp_path):
    config = tmp_path / "pretrain.yaml"
    config.write_text(
        "pretrain: {dataset: imagenette, models: [bagnet33_v2], processes: 8, device: cuda}\n"
        "weights: {models: {bagnet33_v2: pretrained}}\nmodels: [bagnet33_v2]\n"
    )
    jobs = _by_rule(
        dry_run_jobs(tmp_path, "results/models/bagnet33_v2/seed152/best.pt", *SLURM, "--configfile", str(config))
    )
    (pretrain,) = jobs["pretrain"]
    resources = pretrain["resources"]
    assert resources["gpu"] == "8" and resources["nodes"] == "1" and resources["runtime"] == "4320"
    # No tasks: with a GPU request the plugin turns `tasks` into --ntasks-per-gpu (8 tasks here); without it
    # sbatch gives the job one task, which runs one torchrun.
    assert "tasks" not in resources and "tasks_per_gpu" not in resources
    assert pretrain["wildcards"] == {"dataset": "imagenette", "model": "bagnet33_v2"}
    assert [job["wildcards"]["model"] for job in jobs["train"]] == ["bagnet33_v2"]


def test_cpu_device_asks_for_no_gpu(tmp_path):
    jobs = dry_run_jobs(tmp_path, *SLURM, "--configfile", str(PROJECT / "configs" / "demo.yaml"))
    assert jobs and not any("gpu" in job["resources"] or "gres" in job["resources"] for job in jobs)


def test_workflow_profile_holds_no_cluster_or_global_settings():
    """Its keys override a user's global profile one by one: a global GPU cap, default-resources or an
    executor there would override theirs (the old `resources: gpu=1` serialised every cluster run)."""
    profile = yaml.safe_load((PROJECT / "profiles" / "default" / "config.yaml").read_text())
    assert not set(profile) & {"resources", "default-resources", "executor", "set-threads", "jobs"}
    cluster = yaml.safe_load((PROJECT / "profiles" / "slurm" / "config.yaml").read_text())
    assert cluster["executor"] == "slurm" and "set-resources" not in cluster


def test_partition_file_routes_gpu_and_cpu_jobs():
    partitions = read_partition_file(PROJECT / "profiles" / "slurm" / "partitions.yaml")
    assert sorted(p.limits.max_gpu > 0 for p in partitions) == [False, True]


def test_downloads_and_cheap_report_steps_run_on_the_submit_host():
    rules = "".join(p.read_text() for p in (PROJECT / "workflow" / "rules").glob("*.smk"))
    declared = re.findall(r"localrules:\n((?:    \w+,\n)+)", rules)
    local = sorted(name.strip(" ,") for block in declared for name in block.splitlines())
    assert local == [
        "class_counts",
        "compute_table",
        "download",
        "feature_amount_data",
        "fetch_weights",
        "imagenet_kaggle",
        "imagenette_download",
        "paper",
        "paper_values",
    ]
