"""Verified downloads: resume, truncation, checksum mismatch; one error line and nothing half-written."""

import hashlib

from helpers import run_cli

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
RETRIES = ("--retries", "3")  # the rules always pass it


def test_download_verifies_and_renames(file_server, tmp_path):
    file_server.files["a.zip"] = PAYLOAD
    out = tmp_path / "dl" / "a.zip"
    result = run_cli("download", *RETRIES, "--url", file_server.url("a.zip"), "--sha256", DIGEST, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == PAYLOAD
    assert not (tmp_path / "dl" / "a.zip.part").exists()


def test_interrupted_transfer_resumes_with_range(file_server, tmp_path):
    file_server.files["a.zip"] = PAYLOAD
    file_server.mode["a.zip"] = "flaky"  # the first response stops halfway
    out = tmp_path / "a.zip"
    result = run_cli("download", *RETRIES, "--url", file_server.url("a.zip"), "--sha256", DIGEST, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == PAYLOAD
    ranges = [r for name, r in file_server.requests if name == "a.zip"]
    assert ranges[0] is None and ranges[1] == f"bytes={len(PAYLOAD) // 2}-"


def test_truncated_download_fails_and_keeps_the_part_for_the_next_run(file_server, tmp_path):
    file_server.files["a.zip"] = PAYLOAD
    file_server.mode["a.zip"] = "truncate"
    out = tmp_path / "a.zip"
    result = run_cli(
        "download", *RETRIES, "--url", file_server.url("a.zip"), "--sha256", DIGEST, "--out", str(out), "--retries", "2"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: download failed after 2 attempts") and "a.zip" in lines[-1]
    assert "Traceback" not in result.stderr and "the next run resumes them" in lines[-1]
    assert "attempt 1/2 failed" in result.stdout and "resuming" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["a.zip.part"]  # no a.zip: nothing unverified appears
    file_server.mode["a.zip"] = "normal"  # the server is back: the next run resumes the kept bytes
    have = (tmp_path / "a.zip.part").stat().st_size
    again = run_cli("download", *RETRIES, "--url", file_server.url("a.zip"), "--sha256", DIGEST, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert file_server.requests[-1] == ("a.zip", f"bytes={have}-") and out.read_bytes() == PAYLOAD


def test_checksum_mismatch_fails_and_keeps_existing_file(file_server, tmp_path):
    file_server.files["a.zip"] = PAYLOAD
    out = tmp_path / "a.zip"
    out.write_bytes(b"the user's own file")
    result = run_cli("download", *RETRIES, "--url", file_server.url("a.zip"), "--sha256", "0" * 64, "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: checksum mismatch for http://127.0.0.1")
    assert out.read_bytes() == b"the user's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip"]


def test_md5_only_archives_are_checked_too(file_server, tmp_path):
    file_server.files["a.tgz"] = PAYLOAD
    out = tmp_path / "a.tgz"
    wrong = run_cli(
        "download", *RETRIES, "--url", file_server.url("a.tgz"), "--sha256=", "--md5", "0" * 32, "--out", str(out)
    )
    assert wrong.returncode == 1
    assert (
        wrong.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: checksum mismatch for {file_server.url('a.tgz')}: expected md5 {'0' * 32}, got ")
    )
    assert list(tmp_path.iterdir()) == []
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    right = run_cli(
        "download", *RETRIES, "--url", file_server.url("a.tgz"), "--sha256=", "--md5", md5, "--out", str(out)
    )
    assert right.returncode == 0 and f"matches md5 {md5}; its sha256 is {DIGEST}" in right.stdout
    assert out.read_bytes() == PAYLOAD


def test_an_offline_fetch_says_where_to_put_the_file_by_hand_and_leaves_no_empty_folder(tmp_path):
    """No internet (nothing listens on the port): one line with the next step (the path, the file's name and
    its sha256) and no empty cache folders left behind."""
    from bagnet_repro.data.download import download
    from bagnet_repro.errors import UserError

    cache = tmp_path / "cache"
    target = cache / "torchvision" / "checkpoints" / "resnet18-f37072fd.pth"
    try:
        download("http://127.0.0.1:9/models/resnet18-f37072fd.pth", target, sha256="f37072fd", retries=1)
    except UserError as exc:
        line = str(exc)
    else:
        raise AssertionError("an unreachable server was not refused")
    assert line.startswith("download failed after 1 attempts: http://127.0.0.1:9/models/resnet18-f37072fd.pth")
    assert line.endswith(
        "; with no internet, fetch http://127.0.0.1:9/models/resnet18-f37072fd.pth elsewhere and put it here by hand "
        f"as {target} (its sha256 begins f37072fd)"
    )
    assert list(tmp_path.iterdir()) == []  # no cache/torchvision/checkpoints left empty


def test_the_cache_variable_naming_a_file_is_named_in_its_error(tmp_path, monkeypatch):
    from bagnet_repro.config.cache_paths import datasets_cache, weights_cache
    from bagnet_repro.errors import UserError

    (tmp_path / "cache").write_text("a file, not a folder")
    monkeypatch.setenv("BAGNET_REPRO_CACHE", str(tmp_path / "cache"))
    for where in (weights_cache, datasets_cache):
        try:
            where()
        except UserError as exc:
            assert str(exc) == (
                f"environment variable BAGNET_REPRO_CACHE={str(tmp_path / 'cache')!r} names a file, not a folder; "
                "name a folder (or unset it)"
            )
        else:
            raise AssertionError("a cache variable naming a file was taken")
