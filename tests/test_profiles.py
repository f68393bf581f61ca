"""The SLURM profile: a dry run of the full config asks a GPU for every training job and takes partition
and account from the environment. (The real SLURM run is tests/cluster/slurm_demo.sh, run by .ci/run.)"""

import os
import re
import subprocess
import sys

from helpers import PROJECT


def test_slurm_profile_dry_run_requests_gpus(tmp_path):
    env = {**os.environ, "BAGNET_SLURM_PARTITION": "gpu-queue", "BAGNET_SLURM_ACCOUNT": "lab42"}
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(PROJECT / "Snakefile"), "--directory",
                             str(tmp_path), "-n", "--profile", str(PROJECT / "profiles" / "slurm"),
                             "--workflow-profile", "none"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "workflow specific profile" not in result.stderr  # profiles/default (one GPU at a time) stays out
    jobs = re.split(r"\n(?=rule |localrule )", result.stdout)
    train = [job for job in jobs if job.startswith("rule train:")]
    assert len(train) == 7
    for job in train:
        resources = re.search(r"resources: (.*)", job).group(1)
        assert "gpu=1" in resources and "slurm_partition=gpu-queue" in resources
        assert "slurm_account=lab42" in resources and "runtime=720" in resources
    assert len([job for job in jobs if re.match(r"(local)?rule (fetch_weights|download):", job)]) == 8
    # Downloads run on the submit host, which has the internet (a dry run does not show "localrule"); so do the
    # report's two cheap steps.
    rules = "".join(p.read_text() for p in (PROJECT / "workflow" / "rules").glob("*.smk"))
    declared = re.findall(r"localrules:\n((?:    \w+,\n)+)", rules)
    local = sorted(name.strip(" ,") for block in declared for name in block.splitlines())
    assert local == ["download", "feature_amount_data", "fetch_weights", "imagenet_kaggle", "imagenette_download",
                     "paper", "paper_values"]
    backbones = next(job for job in jobs if job.startswith("rule backbone_table:"))
    assert "gpu=1" in re.search(r"resources: (.*)", backbones).group(1)


def test_slurm_profile_gives_pretraining_all_gpus_on_one_node(tmp_path):
    config = tmp_path / "pretrain.yaml"
    config.write_text("pretrain: {dataset: imagenette, models: [bagnet33_v2], processes: 8, device: cuda}\n"
                      "weights: {models: {bagnet33_v2: pretrained}}\nmodels: [bagnet33_v2]\n")
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(PROJECT / "Snakefile"), "--directory",
                             str(tmp_path), "results/models/bagnet33_v2/seed152/best.pt", "-n", "--profile",
                             str(PROJECT / "profiles" / "slurm"), "--workflow-profile", "none",
                             "--configfile", str(config)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = re.split(r"\n(?=rule |localrule )", result.stdout)
    pretrain = [job for job in jobs if job.startswith("rule pretrain:")]
    assert len(pretrain) == 1
    resources = re.search(r"resources: (.*)", pretrain[0]).group(1)
    assert "gpu=8" in resources and "nodes=1" in resources and "runtime=4320" in resources
    assert "results/pretrained/imagenette/bagnet33_v2/weights.pt" in pretrain[0]
    assert any(job.startswith("rule train:") and "bagnet33_v2" in job for job in jobs)
