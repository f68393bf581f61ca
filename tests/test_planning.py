"""Planning needs only Snakemake and its own dependencies: the DAG, --lint and the dry run work with torch,
torchvision, scipy, scikit-learn, matplotlib and Pillow unimportable (the standard install: Snakemake in its
own environment, the rules in envs/; --report: tests/test_relocatable.py). And the planning module's
decisions, from the config alone."""

import subprocess
import sys

import numpy as np
import pytest
from planned import environment_without_heavy_packages

from bagnet_repro.config import planning
from helpers import PROJECT, run_snakemake


@pytest.fixture
def without_heavy_packages(tmp_path):
    return environment_without_heavy_packages(tmp_path)


def test_the_blocker_blocks(without_heavy_packages):
    probe = subprocess.run(
        [sys.executable, "-c", "import scipy"], env=without_heavy_packages, capture_output=True, text=True
    )
    assert probe.returncode != 0 and "scipy is not installed here" in probe.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("-n", "--configfile", str(PROJECT / "configs" / "demo.yaml")),
        ("-n",),
        ("-n", "--config", "feature_amounts={dataset: cifar10, variants: {every: 40}}"),
        ("--lint",),
        ("--dag",),
    ],
)
def test_planning_without_torch_scipy_and_friends(tmp_path, without_heavy_packages, args):
    result = run_snakemake(tmp_path, *args, env=without_heavy_packages)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "not installed here" not in result.stdout + result.stderr
    if "-n" in args and "demo.yaml" in args[-1]:
        assert "feature_amount_run" in result.stdout and "train" in result.stdout


def test_family_erf_equals_scipys():
    """The family's model ids depend on the skew-normal shares: math.erf must give scipy's values."""
    from scipy.special import erf

    from bagnet_repro.feature_amounts.family import _erf

    x = np.linspace(-30, 30, 20001)
    assert np.allclose(_erf(x), erf(x), rtol=0, atol=1e-15)


def test_gpus_come_from_the_device_alone():
    assert planning.gpus_for_device("cpu") == 0
    assert planning.gpus_for_device("cuda") == planning.gpus_for_device("cuda:3") == 1
    assert planning.gpus_for_device("auto", per_job=8) == 8
    with pytest.raises(ValueError):
        planning.gpus_for_device("tpu")


def test_gpu_resources_ask_with_one_resource():
    assert planning.gpu_resources(0) == {} == planning.gpu_resources(0, "gres")
    assert planning.gpu_resources(2) == {"gpu": 2}
    assert planning.gpu_resources(2, "gres") == {"gres": "gpu:2"}


def test_weights_arguments():
    assert planning.weights_arguments("imagenet", None) == ["--weights", "imagenet"]
    assert planning.weights_arguments({"url": "https://x/w.pt", "sha256": "ab12"}, "/cache") == [
        "--weights",
        "https://x/w.pt",
        "--weights-sha256",
        "ab12",
        "--weights-cache",
        "/cache",
    ]
