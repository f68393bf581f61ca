"""The workflow as other projects reuse it: a module in their own folder (the layout snakedeploy writes), run
with their own config, with a rule changed through ``use rule ... with:``; and the catalog's small run in
.test/. The end-to-end run through a module builds Snakemake's report as a zip."""

import shutil

import pytest
from planned import dry_run_jobs, run_in, tagged_repository, user_project
from report_zip import check_report_zip

from helpers import PROJECT

TEST_CONFIG = PROJECT / ".test" / "config" / "config.yaml"
# One rule's resources and threads changed by the user's Snakefile, as Snakemake's module docs show.
CHANGED_TRAIN = """

use rule train from bagnet with:
    threads: 2
    resources:
        mem_mb=1234,
"""


def _jobs_by_rule(folder):
    jobs = {}
    for job in dry_run_jobs(folder, "--cores", "4", runner=run_in):
        jobs.setdefault(job["rule"], []).append(job)
    return jobs


def test_a_module_plans_with_the_users_config_and_changed_rule(tmp_path):
    user = user_project(tmp_path / "my-project", TEST_CONFIG.read_text(), CHANGED_TRAIN)
    jobs = _jobs_by_rule(user)
    # The user's config alone, over the schema's defaults: its two models, not config.yaml's seven.
    assert sorted(job["wildcards"]["model"] for job in jobs["train"]) == ["bagnet9", "resnet50"]
    assert {"make_demo_data", "evaluate", "table1", "paper"} <= set(jobs) and "download" not in jobs
    for job in jobs["train"]:
        assert job["resources"]["mem_mb"] == "1234" and job["threads"] == "2", job
    assert all(job["resources"].get("mem_mb") != "1234" for job in jobs["evaluate"])
    # The notebooks are the checkout's, named from the user's folder (nothing is looked up in it).
    assert not (user / "notebooks").exists() and not (user / "src").exists()


TWO_MODULES = """configfile: "config/config.yaml"


module runA:
    snakefile:
        {snakefile!r}
    config:
        config
    prefix:
        "runA"


use rule * from runA as runA_*


module runB:
    snakefile:
        {snakefile!r}
    config:
        config
    prefix:
        "runB"


use rule * from runB as runB_*


rule all:
    input:
        rules.runA_all.input,
        rules.runB_all.input,
    default_target: True
"""


def test_two_prefixed_modules_plan_each_in_its_own_folder(tmp_path):
    """Each module's inputs carry its prefix once (not runB/runB/report/...), and the folders its rules name
    beside their outputs (resume checkpoints, the compute table's) are its own, never shared."""
    user = user_project(tmp_path / "two", TEST_CONFIG.read_text())
    (user / "workflow" / "Snakefile").write_text(TWO_MODULES.format(snakefile=str(PROJECT / "workflow" / "Snakefile")))
    result = run_in(user, "-n", "-p", "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    planned = result.stdout
    assert "runA/runA/" not in planned and "runB/runB/" not in planned
    for prefix in ("runA", "runB"):
        assert f"--checkpoint {prefix}/results/checkpoints/bagnet9/seed0/last.pt" in planned
        assert f"--results {prefix}/results --benchmarks {prefix}/logs/benchmarks" in planned
        assert f"--out {prefix}/report/paper.pdf" in planned
    assert "--checkpoint results/" not in planned


def test_the_users_changed_resources_reach_the_job_with_the_shipped_profile_in_place(tmp_path):
    """The project's copy of profiles/default (as the manual and snakedeploy put it) sizes the other rules, and
    never overrides what the user's ``use rule ... with: resources:`` sets."""
    user = user_project(tmp_path / "my-project", TEST_CONFIG.read_text(), CHANGED_TRAIN)
    shutil.copytree(PROJECT / "profiles" / "default", user / "profiles" / "default")
    jobs = _jobs_by_rule(user)
    assert jobs["train"] and all(job["resources"]["mem_mb"] == "1234" for job in jobs["train"]), jobs["train"]
    assert all(job["resources"]["mem_mb"] == "16000" for job in jobs["evaluate"])  # the shipped size


def test_a_module_checks_the_users_config(tmp_path):
    broken = TEST_CONFIG.read_text().replace("epochs: 1", "epochs: many")
    result = run_in(user_project(tmp_path, broken), "-n")
    assert result.returncode != 0
    assert "config error at 'train.epochs': 'many' is not of type 'integer'" in result.stdout + result.stderr


def test_a_module_fetched_from_git_stops_in_one_line(tmp_path):
    """Snakemake reads a gitfile() or github() module file by file; the jobs need the package's whole source."""
    repository = tagged_repository(tmp_path / "bagnet-repro", "v1.0")
    user = user_project(tmp_path / "my-project", TEST_CONFIG.read_text())
    snakefile = user / "workflow" / "Snakefile"
    snakefile.write_text(
        snakefile.read_text().replace(
            repr(str(PROJECT / "workflow" / "Snakefile")),
            f'gitfile({str(repository)!r}, path="workflow/Snakefile", tag="v1.0")',
        )
    )
    result = run_in(user, "-n")
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error:")]
    assert lines == [
        "error: bagnet-repro runs as a module from a local checkout (its jobs run the package in its src/): clone "
        f"it at the tag you want and give the module that clone's Snakefile, not git+file://{repository}/@v1.0 "
        "(docs/use-as-module.md)"
    ]


def test_the_catalogs_test_run_plans_every_stage(tmp_path):
    workdir = tmp_path / ".test"
    shutil.copytree(PROJECT / ".test", workdir)
    args = ("-s", str(PROJECT / "workflow" / "Snakefile"), "--directory", str(workdir))
    jobs = {job["rule"] for job in dry_run_jobs(workdir, *args, "--configfile", str(TEST_CONFIG), runner=run_in)}
    assert {"make_demo_data", "train", "heatmaps", "precision", "backbone_table", "table1", "paper"} <= jobs
    graph = run_in(workdir, *args, "--configfile", str(TEST_CONFIG), "--rulegraph")
    assert graph.returncode == 0 and "digraph snakemake_dag" in graph.stdout, graph.stderr[-2000:]


@pytest.mark.slow
def test_a_module_runs_end_to_end_and_reports(tmp_path):
    user = user_project(tmp_path / "my-project", TEST_CONFIG.read_text(), CHANGED_TRAIN)
    ran = run_in(user, "--cores", "2", timeout=1800)
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-4000:]
    table1 = (user / "report" / "tables" / "table1.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in table1[1:]] == ["bagnet9", "resnet50"]
    assert (user / "report" / "paper.pdf").read_bytes().startswith(b"%PDF")
    again = run_in(user, "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr

    made = run_in(user, "--report", "report.zip")
    assert made.returncode == 0, made.stderr[-3000:]
    check_report_zip(user, ["Table 1", "Training", "Heatmaps", "Precision", "Figure 1"])
