"""Safe extraction: entries that escape the target are refused and nothing is left behind."""

import io
import stat
import tarfile
import zipfile

import pytest

from helpers import run_cli


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, is_link in entries:
            info = zipfile.ZipInfo(name)
            if is_link:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, data)


def _tar(path, entries):
    with tarfile.open(path, "w:gz") as tf:
        for name, data, link in entries:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))


def _check_refused(result, out, words):
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: unsafe archive") and all(w in last for w in words), last
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_dotdot_entry_is_refused(tmp_path, kind):
    archive = tmp_path / f"bad.{kind}"
    if kind == "zip":
        _zip(archive, [("train/a.jpg", b"x", False), ("../evil.txt", b"x", False)])
    else:
        _tar(archive, [("train/a.jpg", b"x", None), ("train/../../evil.txt", b"x", None)])
    out = tmp_path / "extracted"
    _check_refused(run_cli("extract", "--archive", str(archive), "--out", str(out)), out, ["..", str(archive)])
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_symlink_leaving_target_is_refused(tmp_path, kind):
    archive = tmp_path / f"bad.{kind}"
    if kind == "zip":
        _zip(archive, [("train/a.jpg", b"x", False), ("train/link", b"../../etc/passwd", True)])
    else:
        _tar(archive, [("train/a.jpg", b"x", None), ("train/link", b"", "/etc/passwd")])
    out = tmp_path / "extracted"
    _check_refused(run_cli("extract", "--archive", str(archive), "--out", str(out)), out, ["link", "leaves"])


def test_absolute_entry_is_refused(tmp_path):
    archive = tmp_path / "bad.tar"
    _tar(archive, [("/tmp/evil.txt", b"x", None)])
    out = tmp_path / "extracted"
    _check_refused(run_cli("extract", "--archive", str(archive), "--out", str(out)), out, ["absolute"])


def test_failed_extraction_keeps_existing_output(tmp_path):
    out = tmp_path / "extracted"
    (out / "keep").mkdir(parents=True)
    (out / "keep" / "mine.txt").write_text("mine")
    archive = tmp_path / "bad.zip"
    _zip(archive, [("../evil.txt", b"x", False)])
    result = run_cli("extract", "--archive", str(archive), "--out", str(out))
    assert result.returncode == 1
    assert (out / "keep" / "mine.txt").read_text() == "mine"


def test_good_archive_with_inner_link_extracts(tmp_path):
    archive = tmp_path / "good.tar"
    _tar(archive, [("data/train/a.jpg", b"abc", None), ("data/alias.jpg", b"", "train/a.jpg")])
    out = tmp_path / "extracted"
    result = run_cli("extract", "--archive", str(archive), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "data" / "train" / "a.jpg").read_bytes() == b"abc"
    assert (out / "data" / "alias.jpg").read_bytes() == b"abc"


def test_each_archive_option_adds_its_archive(tmp_path):
    """``--archive a --archive b`` (the extract rule's form) extracts both, each into its part<i> folder: a repeat
    never replaces the first."""
    for name in ("a", "b"):
        _zip(tmp_path / f"{name}.zip", [(f"{name}/{name}.txt", name.encode(), False)])
    out = tmp_path / "extracted"
    archives = ("--archive", str(tmp_path / "a.zip"), "--archive", str(tmp_path / "b.zip"))
    result = run_cli("extract", *archives, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "part0/a/a.txt").read_text() == "a" and (out / "part1/b/b.txt").read_text() == "b"
