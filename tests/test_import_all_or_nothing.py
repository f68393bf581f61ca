"""import-run is all or nothing: an archive is checked from its manifest before a byte of it is written, a
failure while placing takes everything back, and a kill at any point leaves a stage the next import completes
or removes, ending as an uninterrupted import would."""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tarfile

import pytest
from tiny_workflow import MADE, entry, records, synthetic_archive, tiny_workflow, tree

from bagnet_repro.runs import importing, placing
from bagnet_repro.runs import manifest as mf
from bagnet_repro.runs.export import export_run
from helpers import PROJECT


def cli(*args, cwd, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    """``bagnet-repro`` in ``cwd``; with ``limit_bytes`` no file it writes may grow past that (RLIMIT_FSIZE:
    the process is stopped by SIGXFSZ if one does)."""

    def limit():
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, "-m", "bagnet_repro", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
        capture_output=True,
        text=True,
        preexec_fn=limit,
    )


def one_line(result) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def no_stage(work) -> bool:
    return not [name for name in os.listdir(work) if name.startswith(placing.PREFIX)]


def test_a_bomb_not_of_this_workflow_is_refused_before_a_byte_is_written(tmp_path):
    """64 MiB of zeros (64 KB packed), listed in its own manifest under a name the workflow does not write: refused
    with no file of the import's growing past 1 MiB (it would be killed by SIGXFSZ if one did)."""
    zeros = b"\0" * (64 << 20)
    archive = synthetic_archive(tmp_path / "bomb.tar.gz", {"results/bomb.bin": zeros})
    assert archive.stat().st_size < 1 << 20
    work = tiny_workflow(tmp_path / "work")
    before = tree(work)
    line = one_line(cli("import-run", str(archive), cwd=work, limit_bytes=1 << 20))
    assert "results/bomb.bin is not a file this workflow writes" in line and line.endswith("nothing was written")
    assert tree(work) == before and no_stage(work)


def test_a_member_larger_than_its_entry_is_stopped_before_its_bytes(tmp_path):
    listed = [entry("results/a", b"small")]
    archive = synthetic_archive(tmp_path / "a.tar.gz", {"results/a": b"\0" * (64 << 20)}, listed)
    work = tiny_workflow(tmp_path / "work")
    line = one_line(cli("import-run", str(archive), cwd=work, limit_bytes=1 << 20))
    assert f"entry 'results/a' is {64 << 20} bytes, its manifest lists 5" in line, line
    assert no_stage(work) and not (work / "results").exists()


def test_more_bytes_than_the_destination_has_free_are_refused_up_front(tmp_path):
    listed = [{**entry("results/a", b"x"), "size": 1 << 50}]  # a petabyte, by its manifest
    archive = synthetic_archive(tmp_path / "a.tar.gz", {"results/a": b"x"}, listed)
    work = tiny_workflow(tmp_path / "work")
    line = one_line(cli("import-run", str(archive), cwd=work))
    assert "its files take 1125899906.8 MB and" in line and "MB free" in line, line
    assert no_stage(work)


def test_a_file_where_the_archive_needs_a_folder_is_refused_before_anything_is_placed(tmp_path):
    files = {"results/a": b"a\n", "results/metrics/odd": b"odd\n"}
    archive = synthetic_archive(tmp_path / "a.tar.gz", files)
    work = tiny_workflow(tmp_path / "work")
    (work / "results").mkdir()
    (work / "results/metrics").write_text("a file, not a folder\n")
    line = one_line(cli("import-run", str(archive), cwd=work))
    assert f"{work / 'results/metrics'} is a file here where the archive's results/metrics/odd needs a folder" in line
    assert not (work / "results/a").exists() and no_stage(work)


# ---- a real run of the tiny workflow, exported, then imported with kills and failures ----


@pytest.fixture(scope="module")
def tiny_archive(tmp_path_factory):
    run = tiny_workflow(tmp_path_factory.mktemp("tiny") / "run", made=MADE)
    archive = run.parent / "run.tar.gz"
    here = os.getcwd()
    try:
        manifest = export_run(archive, run)
    finally:
        os.chdir(here)
    assert len(manifest["files"]) == 2 * MADE and len(manifest["records"]) == MADE
    return archive


def imported(archive, work):
    here = os.getcwd()
    try:
        return importing.import_run(archive, work)
    finally:
        os.chdir(here)


def state(work) -> tuple[dict, dict]:
    """The files and Snakemake's records in ``work`` (its own path written WORK), and nothing marked
    incomplete."""
    incomplete = work / ".snakemake" / "incomplete"
    assert not incomplete.is_dir() or not [p for p in incomplete.rglob("*") if p.is_file()]
    return tree(work), json.loads(json.dumps(records(work)).replace(str(work), "WORK"))


@pytest.fixture(scope="module")
def uninterrupted(tiny_archive, tmp_path_factory):
    work = tiny_workflow(tmp_path_factory.mktemp("whole") / "work")
    imported(tiny_archive, work)
    assert no_stage(work)
    return state(work)


# (module, function) whose n-th call is the point of the kill (the default suite takes the first and a middle one
# of each phase; -m slow every one): staging a member, placing a file, writing a
# record, removing the finished stage.
POINTS = [
    *[("importing", "_stage_member", n) for n in range(1, 2 * MADE + 1)],
    *[("placing", "place_one", n) for n in range(1, 2 * MADE + 1)],
    *[("placing", "write_record", n) for n in range(1, MADE + 1)],
    ("Stage", "remove", 1),  # every file and record written, the stage not yet removed
]
MODULES = {"importing": importing, "placing": placing, "Stage": placing.Stage}


def killed_at(module: str, function: str, n: int, archive, work) -> None:
    """Import ``archive`` into ``work`` in a child process killed (SIGKILL) as it makes the ``n``-th call of
    ``module.function``."""
    pid = os.fork()
    if pid == 0:  # the child: the import, killed at that point
        try:
            target = MODULES[module]
            original, calls = getattr(target, function), [0]

            def killing(*args, **kwargs):
                calls[0] += 1
                if calls[0] == n:
                    os.kill(os.getpid(), signal.SIGKILL)
                return original(*args, **kwargs)

            setattr(target, function, killing)
            with contextlib.redirect_stderr(io.StringIO()):
                importing.import_run(archive, work)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"not killed at {module}.{function}#{n}"


@pytest.mark.parametrize(
    "module, function, n",
    [pytest.param(*p, marks=[pytest.mark.slow] if p[2] not in (1, MADE) else []) for p in POINTS],
)
def test_a_kill_at_any_point_then_a_rerun_equals_an_uninterrupted_import(
    module, function, n, tiny_archive, uninterrupted, tmp_path, capfd
):
    work = tiny_workflow(tmp_path / "work")
    killed_at(module, function, n, tiny_archive, work)
    assert not no_stage(work)  # the kill left its stage
    imported(tiny_archive, work)
    said = capfd.readouterr().err
    placing_began = function != "_stage_member"
    expected = "completed an interrupted import" if placing_began else "removed the stage of an interrupted import"
    assert expected in said, said
    assert no_stage(work) and state(work) == uninterrupted


def test_a_kill_while_replacing_a_file_keeps_it_until_the_rerun_completes(tiny_archive, uninterrupted, tmp_path):
    work = tiny_workflow(tmp_path / "work")
    (work / "logs").mkdir()
    (work / "logs/f0.log").write_text("mine\n")
    pid = os.fork()
    if pid == 0:
        try:
            original = placing.move_in

            def killing(staged, target):  # the user's log renamed aside, then this
                original(staged, target)
                if target == work / "logs/f0.log":
                    os.kill(os.getpid(), signal.SIGKILL)  # the archive's log in; the user's beside it till the end

            placing.move_in = killing
            importing.import_run(tiny_archive, work, force=True)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert (work / "logs/.f0.log.bagnet-kept").read_text() == "mine\n" and not no_stage(work)
    imported(tiny_archive, work)
    assert no_stage(work) and state(work) == uninterrupted


def _mounted_tmpfs(folder, size: str) -> bool:
    folder.mkdir(parents=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]).returncode == 0


@contextlib.contextmanager
def small_disk(folder, size="1m"):
    if os.geteuid() != 0 or shutil.which("mount") is None or not _mounted_tmpfs(folder, size):
        pytest.skip("needs a small disk: mounting a tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)])


def test_a_disk_full_while_placing_takes_back_every_file_and_record(tiny_archive, tmp_path):
    """results/ on a small disk of its own (placed there by a copy); the disk fills (another writer) after the
    logs and the first results are placed: the import takes all of them back, and the user's own file that
    --force was replacing is back too."""
    work = tiny_workflow(tmp_path / "work")
    with small_disk(tmp_path / "disk", "2m") as disk:
        (disk / "results").mkdir()
        (work / "results").symlink_to(disk / "results")
        (disk / "results/f1.txt").write_text("mine\n")
        before = state(work)
        original, calls = placing.place_one, [0]

        def filling(*args):
            calls[0] += 1
            if calls[0] == MADE + 2:  # f0..f2 and their logs placed: the next results file meets a full disk
                with open(disk / "filler", "wb") as handle, contextlib.suppress(OSError):
                    handle.write(b"\0" * (4 << 20))
            return original(*args)

        placing.place_one = filling
        here = os.getcwd()
        try:
            with pytest.raises(importing.UserError) as caught:
                importing.import_run(tiny_archive, work, force=True)
        finally:
            placing.place_one = original
            os.chdir(here)
        line = str(caught.value)
        assert line.startswith(f"cannot place {work / 'results/f'}") and ": No space left on device;" in line, line
        assert line.endswith("nothing of yours is lost"), line
        (disk / "filler").unlink()
        assert state(work) == before and no_stage(work)
        assert os.listdir(disk / "results") == ["f1.txt"] and (disk / "results/f1.txt").read_text() == "mine\n"


def test_a_read_only_destination_is_refused_before_anything_is_placed(tiny_archive, tmp_path):
    work = tiny_workflow(tmp_path / "work")
    with small_disk(tmp_path / "disk") as disk:
        (work / "results").symlink_to(disk)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        before = tree(work)
        line = one_line(cli("import-run", str(tiny_archive), cwd=work))
        assert f"{work / 'results'} cannot be written (Read-only file system)" in line, line
        assert tree(work) == before and no_stage(work) and not (work / "logs").exists()


def test_manifest_and_records_of_the_tiny_run(tiny_archive):
    """The archive the kills use holds what the run made (so the points above cover every file and record)."""
    with tarfile.open(tiny_archive) as tar:
        names = tar.getnames()
    assert names[0] == mf.MANIFEST_NAME and sorted(names[1:]) == sorted(
        [f"results/f{i}.txt" for i in range(MADE)] + [f"logs/f{i}.log" for i in range(MADE)]
    )
