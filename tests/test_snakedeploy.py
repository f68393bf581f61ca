"""``snakedeploy deploy-workflow`` of a local clone at a tag into an empty folder, then that deployment's dry
run: what a new user of the workflow types, offline (docs/use-as-module.md). Needs the snakedeploy command
(its own environment: ``BAGNET_SNAKEDEPLOY`` names it, else it is looked up on PATH)."""

import os
import shutil
import subprocess

import pytest
from planned import dry_run_jobs, run_in, tagged_repository

from helpers import PROJECT

SNAKEDEPLOY = os.environ.get("BAGNET_SNAKEDEPLOY") or shutil.which("snakedeploy")
pytestmark = pytest.mark.skipif(not SNAKEDEPLOY, reason="snakedeploy is not installed (docs/use-as-module.md)")
TAG = "v0.0-test"


@pytest.fixture
def clone_at_tag(tmp_path):
    return tagged_repository(tmp_path / "bagnet-repro", TAG)


def test_a_deployment_of_a_local_clone_plans(tmp_path, clone_at_tag):
    project = tmp_path / "my-project"
    deployed = subprocess.run(
        [SNAKEDEPLOY, "deploy-workflow", str(clone_at_tag), str(project), "--tag", TAG, "--name", "bagnet"],
        capture_output=True,
        text=True,
    )
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    # What snakedeploy copies: the catalog's config folder (the defaults themselves, not the link), the profiles.
    config = project / "config" / "config.yaml"
    assert not config.is_symlink() and config.read_text() == (PROJECT / "config.yaml").read_text()
    assert (project / "config" / "README.md").is_file() and (project / "profiles" / "default").is_dir()
    # snakedeploy names a local source by its path inside the clone; the module takes the clone's Snakefile.
    snakefile = project / "workflow" / "Snakefile"
    written = snakefile.read_text()
    assert '"workflow/Snakefile"' in written and "use rule * from bagnet" in written
    snakefile.write_text(written.replace('"workflow/Snakefile"', repr(str(clone_at_tag / "workflow" / "Snakefile"))))

    jobs = {job["rule"] for job in dry_run_jobs(project, runner=run_in)}
    assert {"download", "extract", "fetch_weights", "train", "evaluate", "table1", "paper"} <= jobs
    demo = run_in(project, "-n", "--configfile", str(PROJECT / "configs" / "demo.yaml"))
    assert demo.returncode == 0 and "make_demo_data" in demo.stdout, demo.stderr[-3000:]
