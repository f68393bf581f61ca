"""export-run / import-run: a finished demo travels to a fresh clone, where Snakemake plans nothing it covers
and the PDF rebuilds from the imported files alone; a damaged or hostile archive is refused with one line and
nothing written."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time

import pytest
from tiny_workflow import entry, synthetic_archive, tiny_workflow, tree

from bagnet_repro.runs import manifest as mf
from helpers import PROJECT, run_cli

DEMO = str(PROJECT / "configs" / "demo.yaml")


def refused(tmp_path, archive, *options):
    """The import's one line; the working folder (the tiny workflow's) as it was, without a stage."""
    work = tiny_workflow(tmp_path / "work")
    before = tree(work)
    result = run_cli("import-run", str(archive), *options, cwd=work)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert tree(work) == before  # nothing written, not even the stage
    return lines[0]


GOOD = {"results/metrics/bagnet9/seed0.json": b'{"test_acc": 0.5}\n'}


def test_a_tampered_file_is_refused(tmp_path):
    listed = [entry("results/metrics/bagnet9/seed0.json", b'{"test_acc": 0.9}\n')]  # what the exporter hashed
    line = refused(tmp_path, synthetic_archive(tmp_path / "a.tar.gz", GOOD, listed))
    assert "results/metrics/bagnet9/seed0.json does not match its manifest" in line and "nothing was written" in line


@pytest.mark.parametrize(
    "name, why",
    [
        (".git/hooks/pre-commit", "outside results/, logs/ and the rendered report/ outputs"),
        ("README.md", "outside results/"),
        ("src/bagnet_repro/__init__.py", "outside results/"),
        ("report/paper.typ", "outside results/"),
        ("results/../README.md", "leaves the project"),
        ("/tmp/planted", "absolute path"),
        ("results/unlisted.txt", "is not in its manifest"),
    ],
)
def test_a_member_outside_its_places_or_its_manifest_is_refused(tmp_path, name, why):
    info = tarfile.TarInfo(name)
    info.size = 4
    line = refused(tmp_path, synthetic_archive(tmp_path / "a.tar.gz", GOOD, extra=[(info, b"evil")]))
    assert why in line and repr(name) in line, line


def test_a_manifest_naming_a_file_outside_results_is_refused(tmp_path):
    files = {"README.md": b"replaced\n"}
    assert "'README.md' is outside results/" in refused(tmp_path, synthetic_archive(tmp_path / "a.tar.gz", files))


@pytest.mark.parametrize(
    "kind, why",
    [
        (tarfile.SYMTYPE, "is a link"),
        (tarfile.LNKTYPE, "is a link"),
        (tarfile.CHRTYPE, "device or other special"),
        (tarfile.FIFOTYPE, "device or other special"),
        (tarfile.DIRTYPE, "is a folder"),
    ],
)
def test_links_folders_and_special_files_are_refused(tmp_path, kind, why):
    info = tarfile.TarInfo("results/metrics/odd")
    info.type = kind
    info.linkname = "../../README.md" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    listed = [*[entry(n, d) for n, d in GOOD.items()], entry("results/metrics/odd", b"")]
    line = refused(tmp_path, synthetic_archive(tmp_path / "a.tar.gz", GOOD, listed, extra=[(info, None)]))
    assert why in line and "results/metrics/odd" in line, line


def test_a_symlink_loop_is_refused_before_anything_is_written(tmp_path):
    loop = []
    for name, target in (("results/a", "b"), ("results/b", "a")):
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.SYMTYPE, target
        loop.append((info, None))
    line = refused(tmp_path, synthetic_archive(tmp_path / "a.tar.gz", GOOD, extra=loop))
    assert "'results/a' is a link" in line


def test_a_truncated_archive_is_refused(tmp_path):
    big = {f"logs/train/m{i}.log": os.urandom(50_000) for i in range(4)}  # incompressible, so a cut loses files
    whole = synthetic_archive(tmp_path / "whole.tar.gz", big).read_bytes()
    for cut in (len(whole) // 2, len(whole) - 30):
        (tmp_path / "cut.tar.gz").write_bytes(whole[:cut])
        line = refused(tmp_path, tmp_path / "cut.tar.gz")
        assert "truncated or damaged" in line, line


def test_not_a_run_archive_and_a_missing_file_are_refused(tmp_path):
    plain = tmp_path / "plain.tar.gz"
    with tarfile.open(plain, "w:gz") as tar:
        info = tarfile.TarInfo("results/x")
        tar.addfile(info, io.BytesIO(b""))
    assert "not a run archive" in refused(tmp_path, plain)
    listed = [*[entry(n, d) for n, d in GOOD.items()], entry("results/metrics/resnet50/seed0.json", b"{}")]
    line = refused(tmp_path, synthetic_archive(tmp_path / "a.tar.gz", GOOD, listed))
    assert "1 files of its manifest are missing from it (first: results/metrics/resnet50/seed0.json)" in line
    assert refused(tmp_path, tmp_path / "absent.tar.gz") == f"error: archive not found: {tmp_path / 'absent.tar.gz'}"


def test_a_file_the_workflow_does_not_write_is_refused(tmp_path):
    files = {"results/metrics/bagnet9/seed0.json": b"{}", "results/planted.sh": b"rm -rf ~\n"}
    line = refused(tmp_path, synthetic_archive(tmp_path / "a.tar.gz", files))
    assert "results/planted.sh is not a file this workflow writes" in line, line
    assert line.endswith("pass the run's config files with --configfile; nothing was written"), line


def test_a_member_name_with_a_line_break_is_refused_in_one_escaped_line(tmp_path):
    files = {"results/metrics/bagnet9/seed0.json": b"{}", "results/x\nerror: forged": b"x"}
    line = refused(tmp_path, synthetic_archive(tmp_path / "a.tar.gz", files))
    assert "results/x\\nerror: forged is not a file this workflow writes" in line, line


def test_a_differing_file_here_is_kept_unless_force_and_a_differing_checkout_is_named(tmp_path):
    work = tiny_workflow(tmp_path / "work")
    (work / "results/data").mkdir(parents=True)
    (work / "results/data/manifest.tsv").write_text("mine\n")
    config = {"seeds": [5], "data_dir": "data", "made": 4}  # the tiny workflow resolves seeds [0] here
    archive = synthetic_archive(tmp_path / "a.tar.gz", {"results/data/manifest.tsv": b"theirs\n"}, config=config)
    line = refused(tmp_path, archive)
    assert "1 files here differ from the archive's (first: results/data/manifest.tsv)" in line
    assert "--force" in line and (work / "results/data/manifest.tsv").read_text() == "mine\n"
    forced = run_cli("import-run", str(archive), "--force", cwd=work)
    assert forced.returncode == 0, forced.stderr
    assert (work / "results/data/manifest.tsv").read_text() == "theirs\n"
    warning = [line for line in forced.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "commit 000000000000 there" in warning[0], forced.stderr
    assert warning[0].endswith("; config seeds"), warning[0]
    assert "replaced 1 differing files (--force)" in forced.stdout
    assert not [p for p in os.listdir(work) if p.startswith(".bagnet-import")]


def test_a_run_made_apart_from_its_code_keeps_its_set_of_inputs(tmp_path):
    """A run made inside its checkout records the paper's template as "workflow/...", which sorts after
    results/; imported into a folder apart from its code, the template is "../..." and sorts first. Snakemake
    compares the sorted lists, so the renamed record must be sorted again as Snakemake sorts it (and the same
    holds the other way round, a run made apart from its code imported into a clone)."""
    from snakemake.persistence import RECORD_FORMAT_VERSION

    from bagnet_repro.runs.workflow_dag import open_workflow

    work = tmp_path / "work"
    work.mkdir()
    with open_workflow(work, [DEMO], targets=["report/paper.pdf"]) as workflow:
        (job,) = [job for job in workflow.dag.jobs if job.rule.name == "paper"]
        inputs_here = workflow.persistence._input(job)  # what Snakemake records for this job, sorted
    template = os.path.relpath(PROJECT / "workflow/report/paper.typ", work)
    assert template in inputs_here
    inputs_there = sorted([*(name for name in inputs_here if name != template), "workflow/report/paper.typ"])
    assert inputs_there[-1] == "workflow/report/paper.typ" and inputs_here[0] == template
    record = {"rule": "paper", "input": inputs_there, "record_format_version": RECORD_FORMAT_VERSION}
    archive = synthetic_archive(
        tmp_path / "a.tar.gz",
        {"report/paper.pdf": b"%PDF-1.7 made elsewhere\n"},
        records={"report/paper.pdf": record},
        folders=("/elsewhere/checkout", "/elsewhere/checkout"),  # the run inside its checkout
    )
    imported = run_cli("import-run", str(archive), "--configfile", DEMO, cwd=work)
    assert imported.returncode == 0, imported.stderr
    with open_workflow(work, [DEMO], targets=["report/paper.pdf"]) as workflow:
        (job,) = [job for job in workflow.dag.jobs if job.rule.name == "paper"]
        recorded, changed = workflow.persistence.input(job.output[0]), list(workflow.persistence.input_changed(job))
    assert recorded == inputs_here and changed == []


# ---- the round trip on the finished demo (slow: the demo trains every model once) ----


def planned(workdir, *args):
    """The jobs a dry run would run, from Snakemake's API (rule names)."""
    from bagnet_repro.runs.workflow_dag import planned_rules

    return planned_rules(workdir, [DEMO], snakefile=workdir / "Snakefile")


@pytest.mark.slow
def test_a_finished_demo_travels_to_a_fresh_clone(finished_demo, tmp_path):
    archive = tmp_path / "run.tar.gz"
    start = time.monotonic()
    exported = run_cli("export-run", str(archive), "--configfile", DEMO, cwd=finished_demo)
    export_s = time.monotonic() - start
    assert exported.returncode == 0, exported.stderr
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile(mf.MANIFEST_NAME).read())
    assert names[0] == mf.MANIFEST_NAME
    assert "report/paper.pdf" in names and "results/statistics/sweep.csv" in names
    assert "results/heatmaps/heatmaps.npz" in names and "logs/train/bagnet33_seed0.log" in names
    assert "results/models/bagnet33/seed0/best.pt" in names  # the kept weights, unless --no-weights
    assert not [n for n in names if n.startswith(("results/data/demo", "results/checkpoints", "results/downloads"))]
    assert manifest["provenance"]["data_manifest_sha256"] and manifest["provenance"]["packages"]["torch"]
    assert len(manifest["records"]) > 50  # Snakemake's records travel with the outputs

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(PROJECT), str(clone)], check=True)
    start = time.monotonic()
    imported = subprocess.run(
        [os.sys.executable, "-m", "bagnet_repro", "import-run", str(archive), "--configfile", DEMO],
        cwd=clone,
        env={**os.environ, "PYTHONPATH": str(clone / "src")},
        capture_output=True,
        text=True,
    )
    import_s = time.monotonic() - start
    assert imported.returncode == 0, imported.stderr
    print(
        f"\nround trip: archive {archive.stat().st_size / 1e6:.1f} MB, export {export_s:.1f} s, "
        f"import {import_s:.1f} s; {imported.stdout.strip()}"
    )
    assert planned(clone) == []  # nothing to do for what the archive covers
    dry = subprocess.run(
        [os.sys.executable, "-m", "snakemake", "-n", "--configfile", DEMO], cwd=clone, capture_output=True, text=True
    )
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]

    # What the archive does not cover is built, from the imported files alone: the PDF and its values.
    (clone / "report/paper.pdf").unlink()
    (clone / "results/paper/values.json").unlink()
    assert planned(clone) == ["all", "paper", "paper_values"]
    built = subprocess.run(
        [os.sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", DEMO],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert (clone / "report/paper.pdf").read_bytes().startswith(b"%PDF")
    assert not (clone / "results/data/demo").exists()  # no images were needed
    assert planned(clone) == []
