"""Adversarial input and faults, as a new user meets them: each case asserts the one-line message, the exit
code, that nothing escaped or was left half-written, and that what the user had before survives.

The cases (numbered as listed in docs/troubleshooting.md, "The cases the tests play"):
 1-4   archives: chained links in a zip and a tar, a link fixed up by a later entry (zip and tar)
 5-7   local data: another local_dir, a changed image, a corrupt image (named, before any training)
 8-10  resume: checkpoint from other data, corrupt last.pt, corrupt best.pt
 11-12 writes: full disk (file size limit), read-only checkpoint folder
 13-15 numbers: lr -1, image size 0, batch 0 (one line each, from --options as from the config)
 16-19 config at start-up: grid not dividing the image size (sweep and scramble), too few images for the
       stratified split (demo, at start-up; real data, at the split step), URL without a file name
 20-21 YAML syntax error in config.yaml (workflow) and in a --configfile (check-config)
 22-24 downloads: pinned sha256 changed after a good download, server down past the retries (.part kept,
       retries and resume logged), checksum mismatch of the re-download
 25    a bad heatmaps.images entry keeps the good heatmaps.npz
 26    outputs follow the user's umask
 27    the manual says how to clear Snakemake's lock after a kill
 28-31 weights-only loading: explain --weights files (best.pt-shaped or a state dict), best.pt and the resume
       checkpoint never run code; a best.pt without its 'head' key names the missing key
 32    image sizes: above the maximum 4096 is refused at start-up with the memory it would take
 33    a RuntimeError from torch is one line; BAGNET_REPRO_TRACEBACK=on shows its traceback, another value is refused
 34    the run archive's refusals (docs/moving-runs.md, "What the import checks"): in tests/test_run_archive.py
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

import pytest
import torch
import yaml
from PIL import Image
from test_extract import _tar, _zip

from bagnet_repro.data.demo import make_demo_data
from bagnet_repro.data.inventory import build_inventory, write_records
from bagnet_repro.data.split import seeded_split
from bagnet_repro.errors import UserError
from helpers import PROJECT, copy_checkout, evaluate_command, run_cli, run_snakemake, train_command


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def assert_one_line_error(result, *words):
    assert result.returncode == 1, result.stderr[-2000:]
    line = last_line(result)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert all(word in line for word in words), line


def leftovers(folder):
    """Temporary files of the atomic writers (``.name.xxx.tmp``/``.probe``) under ``folder``."""
    return [p for p in folder.rglob(".*") if p.suffix in (".tmp", ".probe")]


# 1-4: archives -------------------------------------------------------------------------------------------

# Each link of the chain alone stays inside (lexically), the chain leaves; then a file is written through it.
CHAIN = ([("s0", ".")] + [(f"s{i}", f"s{i - 1}/..") for i in range(1, 6)], "s5/x.txt")
# 'late' is checked while 'b' does not exist yet, and 'b' then makes it leave: caught when a file is
# written through it, or (with no such file) by the check of the finished tree.
LATE = ([("s0", "."), ("late", "b/.."), ("b", "s0")], "late/x.txt")
LATE_LINK_ONLY = (LATE[0], None)


@pytest.mark.parametrize("kind", ["zip", "tar"])
@pytest.mark.parametrize("case", [CHAIN, LATE, LATE_LINK_ONLY], ids=["chain", "late_link", "late_link_only"])
def test_archive_links_resolved_through_each_other_are_refused(tmp_path, kind, case):
    links, written = case
    root = tmp_path / "a" / "b" / "c"
    root.mkdir(parents=True)
    archive = tmp_path / f"evil.{kind}"
    files = [(written, b"evil")] if written else []
    if kind == "zip":
        _zip(archive, [(n, t.encode(), True) for n, t in links] + [(n, d, False) for n, d in files])
    else:
        _tar(archive, [(n, b"", t) for n, t in links] + [(n, d, None) for n, d in files])
    out = root / "extracted"
    result = run_cli("extract", "--archive", str(archive), "--out", str(out))
    assert_one_line_error(result, "unsafe archive", str(archive), "leaves the target")
    assert not out.exists() and not [p for p in root.iterdir()]  # no output, no temporary folder
    assert not [p for p in tmp_path.rglob("x.txt")]  # nothing was written anywhere


# 5-7: local data -----------------------------------------------------------------------------------------

TINY = {
    "data": {"source": "local", "urls": []},
    "split": {"seed": 1, "val_fraction": 0.5, "test_per_class": 2},
    "models": ["bagnet9"],
    "weights": {"models": {"bagnet9": "none"}},
    "seeds": [0],
    "train": {"image_size": 32, "epochs": 1, "batch_size": 8, "head": "linear"},
    "compute": {"device": "cpu", "threads": 1},
    "evaluate": {"scramble_grid": 4, "sweep_grids": [1, 2, 4], "batch_size": 64},
}


def tiny_data(folder, seed):
    make_demo_data(folder, train_per_class=6, test_per_class=4, width=32, height=32, seed=seed)
    return folder


def write_config(path, **sections):
    config = json.loads(json.dumps(TINY))
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    path.write_text(json.dumps(config))  # JSON is YAML
    return str(path)


def snake(workdir, config, *targets, env=None):
    return run_snakemake(workdir, "--cores", "1", *targets, "--configfile", config, env=env)


HEATMAPS = "results/heatmaps/heatmaps.npz"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """TINY on tiny_data(seed 0) run once to its heatmaps (bagnet9 trained, evaluated, its images chosen and
    drawn): the tests that start from a trained model copy it (Snakemake keys its records by relative path, and a
    copy keeps the files' times, so a copy plans nothing) instead of each training it again."""
    root = tmp_path_factory.mktemp("tiny_run")
    data = tiny_data(root / "data", 0)
    config = write_config(root / "a.yaml", data={"local_dir": str(data)})
    result = snake(root / "work", config, HEATMAPS)
    assert result.returncode == 0, result.stderr[-3000:]
    return root / "work", data


def copy_of(run, tmp_path):
    shutil.copytree(run, tmp_path / "work", symlinks=True)
    return tmp_path / "work"


def manifest_paths(workdir):
    return {line.split("\t")[2] for line in (workdir / "results/data/manifest.tsv").read_text().splitlines()[1:]}


def test_local_data_changes_rerun_what_depends_on_them(tmp_path, tiny_run):
    work, data_a = copy_of(tiny_run[0], tmp_path), tiny_run[1]  # a model trained on data A
    data_b = tiny_data(tmp_path / "B", 1)
    model = "results/models/bagnet9/seed0/best.pt"
    config = write_config(tmp_path / "a.yaml", data={"local_dir": str(data_a)})
    assert all(p.startswith(str(data_a)) for p in manifest_paths(work))
    again = snake(work, config, model)
    assert "Nothing to be done" in again.stdout + again.stderr

    # 5: another folder: inventory, split and training run again, on the new images.
    config = write_config(tmp_path / "b.yaml", data={"local_dir": str(data_b)})
    second = snake(work, config, model)
    assert second.returncode == 0, second.stderr[-3000:]
    assert all(p.startswith(str(data_b)) for p in manifest_paths(work))
    for rule in ("inventory", "split", "train"):
        assert f"rule {rule}:" in second.stderr, rule

    # 6: one image rewritten in place: the inventory, the split and training are planned again.
    image = sorted((data_b / "train" / "Coast").iterdir())[0]
    image.write_bytes((data_b / "train" / "Forest" / sorted(os.listdir(data_b / "train" / "Forest"))[0]).read_bytes())
    planned = run_snakemake(work, "-n", model, "--configfile", config)
    assert planned.returncode == 0
    for rule in ("inventory", "split", "train"):
        assert f"rule {rule}:" in planned.stdout + planned.stderr, rule

    # 7: a corrupt image stops the inventory with its name, before any training; the trained model stays.
    image.write_bytes(b"not a jpeg")
    before = (work / model).read_bytes()
    fourth = snake(work, config, model)
    assert fourth.returncode == 1 and f"1 image(s) do not decode: {image}" in fourth.stderr
    assert "rule train:" not in fourth.stderr and (work / model).read_bytes() == before


# 8-10: resume --------------------------------------------------------------------------------------------


def tiny_manifest(tmp_path, seed):
    path = tmp_path / f"manifest{seed}.tsv"
    records = build_inventory(tiny_data(tmp_path / f"data{seed}", seed))
    write_records(seeded_split(records, 0.5, test_per_class=2, seed=0), path, "split")
    return path


def train_args(manifest, out, **options):
    return train_command(manifest, out, {"image_size": 32, "epochs": 3, "batch_size": 8, "head": "linear", **options})


LONG = {"epochs": 200}  # far more than the run can finish before the kill


def killed_after_first_epoch(manifest, out):
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"), OMP_NUM_THREADS="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "bagnet_repro", *train_args(manifest, out, **LONG)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not (out / "last.pt").exists() and time.monotonic() < deadline:  # written after epoch 1
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def test_checkpoint_from_other_data_is_refused_and_kept(tmp_path):
    out = tmp_path / "run"
    killed_after_first_epoch(tiny_manifest(tmp_path, 0), out)
    saved = (out / "last.pt").read_bytes()
    other = tiny_manifest(tmp_path, 1)  # the demo seed changed: other images
    result = run_cli(*train_args(other, out, **LONG))  # the same settings, other data
    assert_one_line_error(result, str(out / "last.pt"), "written on other data", "delete it")
    assert (out / "last.pt").read_bytes() == saved and not (out / "best.pt").exists()


def test_corrupt_resume_checkpoint_is_one_line_and_kept(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "last.pt").write_bytes(b"PK\x03\x04 half a checkpoint")
    result = run_cli(*train_args(tiny_manifest(tmp_path, 0), out))
    assert_one_line_error(result, f"cannot read the resume checkpoint {out / 'last.pt'}", "delete it")
    assert (out / "last.pt").read_bytes() == b"PK\x03\x04 half a checkpoint"


def evaluate_args(checkpoint, tmp_path):
    return evaluate_command(checkpoint, tiny_manifest(tmp_path, 0), tmp_path)


def test_corrupt_best_checkpoint_is_one_line(tmp_path):
    best = tmp_path / "best.pt"
    best.write_bytes(b"\x80\x02 garbage")
    out = tmp_path / "predictions.tsv"
    result = run_cli(*evaluate_args(best, tmp_path))
    assert_one_line_error(result, f"cannot read checkpoint {best}")
    assert not out.exists() and not leftovers(tmp_path)


# 11-12: writes -------------------------------------------------------------------------------------------


def test_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path):
    out = tmp_path / "run"

    def small_files():  # writes past 200 kB fail with EFBIG, as they would with ENOSPC on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"))
    manifest = tiny_manifest(tmp_path, 0)
    result = subprocess.run(
        [sys.executable, "-m", "bagnet_repro", *train_args(manifest, out)],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=small_files,
    )
    assert_one_line_error(result, f"cannot write {out / 'last.pt'}", "the write failed", "MiB free")
    assert not (out / "last.pt").exists() and not (out / "best.pt").exists() and not leftovers(out)


def read_only_folder(tmp_path):
    """A folder this process cannot write in: a chmod-ed one, or for root (who ignores modes) /sys."""
    if os.geteuid() != 0:
        folder = tmp_path / "read_only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    try:
        os.close(tempfile.mkstemp(dir="/sys")[0])
    except OSError:
        return "/sys"
    pytest.skip("no read-only folder available to root here")


def test_read_only_checkpoint_folder_fails_before_training(tmp_path):
    folder = read_only_folder(tmp_path)
    out = tmp_path / "run"
    args = train_args(tiny_manifest(tmp_path, 0), out)
    args[args.index("--checkpoint") + 1] = f"{folder}/last.pt"
    result = run_cli(*args)
    assert_one_line_error(result, f"cannot write {folder}/last.pt")
    assert "epoch 1/" not in result.stdout  # refused before any training
    assert not (out / "best.pt").exists()


# 13-15: numbers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option,value,words",
    [
        ("lr", -1, "training option lr must be > 0, got -1"),
        ("image_size", 0, "training option image_size must be >= 32 and <= 4096, got 0"),
        ("batch_size", 0, "training option batch_size must be >= 1, got 0"),
    ],
)
def test_out_of_range_numbers_are_one_line(tmp_path, option, value, words):
    out = tmp_path / "run"
    result = run_cli(*train_args(tmp_path / "never_read.tsv", out, **{option: value}))
    assert_one_line_error(result, words)
    assert not out.exists()
    config = write_config(tmp_path / "c.yaml", data={"local_dir": str(tmp_path)}, train={option: value})
    planned = run_snakemake(tmp_path / "work", "-n", "--configfile", config)
    assert planned.returncode == 1 and f"config error at 'train.{option}'" in planned.stderr


# 16-19: config checks at start-up ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sections,words",
    [
        (
            {"evaluate": {"sweep_grids": [1, 2, 5]}},
            "config error at 'evaluate.sweep_grids': grid 5 does not divide train.image_size 32",
        ),
        ({"evaluate": {"scramble_grid": 3}}, "config error at 'evaluate.scramble_grid': grid 3 does not divide"),
        (
            {"data": {"source": "demo", "demo": {"train_per_class": 2}}, "split": {"val_fraction": 0.2}},
            "config error at 'split.val_fraction': 0.2 of 30 images gives 6 validation",
        ),
        (
            {"data": {"source": "url", "urls": [{"url": "https://example.org/", "sha256": None}]}},
            "config error at 'data.urls.0.name': the URL 'https://example.org/' has no file name",
        ),
    ],
)
def test_config_problems_stop_the_start(tmp_path, sections, words):
    sections.setdefault("data", {}).setdefault("local_dir", str(tmp_path))
    config = write_config(tmp_path / "c.yaml", **sections)
    result = run_snakemake(tmp_path / "work", "-n", "--configfile", config)
    assert result.returncode == 1 and words in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "work" / "results").exists()
    checked = run_cli("check-config", config)
    assert_one_line_error(checked, words)


def test_too_few_images_for_the_stratified_split_is_one_line(tmp_path):
    inventory = tmp_path / "inventory.tsv"
    data = tmp_path / "data"
    make_demo_data(data, train_per_class=2, test_per_class=2, width=32, height=32, seed=0)
    write_records(build_inventory(data), inventory, "course_split")
    out = tmp_path / "manifest.tsv"
    result = run_cli(
        "split",
        "--inventory",
        str(inventory),
        "--out",
        str(out),
        "--val-fraction",
        "0.2",
        "--test-per-class",
        "1",
        "--seed",
        "0",
    )
    assert_one_line_error(
        result, "cannot split 30 course-train images into train and val by class", "split.val_fraction 0.2"
    )
    assert not out.exists()


# 20-21: YAML -------------------------------------------------------------------------------------------------


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("data:\n  source: local\n  urls: [a, b\nmodels: [bagnet9]\n")
    checked = run_cli("check-config", str(broken))
    assert_one_line_error(checked, f"{broken}:4:", "YAML syntax error")
    # config.yaml itself is read by the Snakefile, which names the line before Snakemake's own message.
    project = tmp_path / "project"
    project.mkdir()
    copy_checkout(project, ("Snakefile", "workflow", "src", "envs", "notebooks", "profiles"))
    (project / "config.yaml").write_text((PROJECT / "config.yaml").read_text().replace("seeds: [152]", "seeds: [152"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(project / "Snakefile"),
            "-n",
            "--directory",
            str(tmp_path / "work"),
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and f"{project / 'config.yaml'}:" in result.stderr
    assert "YAML syntax error" in result.stderr


# 22-24: downloads ----------------------------------------------------------------------------------------


def zip_bytes():
    with tempfile.SpooledTemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("readme.txt", "x" * 50_000)
        buffer.seek(0)
        return buffer.read()


def test_download_changes_never_lose_the_verified_archive(tmp_path, file_server):
    payload = zip_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    file_server.files["scenes.zip"] = payload
    work = tmp_path / "work"
    target = "results/downloads/scenes.zip"

    def config(sha256, name="c.yaml"):
        return write_config(
            tmp_path / name,
            data={"source": "url", "retries": 2, "urls": [{"url": file_server.url("scenes.zip"), "sha256": sha256}]},
        )

    assert snake(work, config(None), target).returncode == 0
    requests = len(file_server.requests)
    # 22: the user pins the digest the log printed: Snakemake deletes the output to rerun the rule, and
    # the kept verified copy is reused (no new request).
    pinned = snake(work, config(digest), target)
    assert pinned.returncode == 0 and len(file_server.requests) == requests
    assert "reusing the verified download" in (work / "logs/data/download_scenes.zip.log").read_text()
    # 24: a wrong pin: the re-download does not verify, the error says where the earlier one is kept.
    wrong = snake(work, config("0" * 64, "wrong.yaml"), target)
    log = (work / "logs/data/download_scenes.zip.log").read_text()
    assert wrong.returncode == 1 and "checksum mismatch" in log and "the earlier download is kept in" in log
    kept = [p for p in (work / "results/downloads/.verified").rglob("scenes.zip")]
    assert len(kept) == 1 and kept[0].read_bytes() == payload
    # 23: the server goes down mid-transfer past the retries: the .part stays and the next run resumes it.
    file_server.files["scenes.zip"] = payload + b"more"  # a new release: a new pinned digest
    new_digest = hashlib.sha256(payload + b"more").hexdigest()
    file_server.mode["scenes.zip"] = "truncate"
    down = snake(work, config(new_digest, "new.yaml"), target)
    log = (work / "logs/data/download_scenes.zip.log").read_text()
    assert down.returncode == 1 and "attempt 1/2 failed" in log and "the next run resumes them" in log
    assert kept[0].read_bytes() == payload and list((work / "results/downloads/.verified").rglob("*.part"))
    file_server.mode["scenes.zip"] = "normal"
    back = snake(work, config(new_digest, "new.yaml"), target)
    assert back.returncode == 0 and "resuming" in (work / "logs/data/download_scenes.zip.log").read_text()
    assert (work / target).read_bytes() == payload + b"more"


# 25: heatmaps --------------------------------------------------------------------------------------------


def test_bad_heatmap_image_keeps_the_good_heatmaps(tmp_path, tiny_run):
    work, data = copy_of(tiny_run[0], tmp_path), tiny_run[1]  # its heatmaps made with the default images
    target = HEATMAPS
    before = (work / target).read_bytes()
    bad = write_config(tmp_path / "b.yaml", data={"local_dir": str(data)}, heatmaps={"images": ["nope.jpg"]})
    result = snake(work, bad, target)
    assert result.returncode == 1
    log = (work / "logs/heatmaps/heatmap_selection.log").read_text()
    assert "heatmaps.images: 'nope.jpg' is not a test image" in log
    assert (work / target).read_bytes() == before


# 26-27 -------------------------------------------------------------------------------------------------------


def test_outputs_follow_the_umask(tmp_path):
    work = tmp_path / "work"
    config = write_config(tmp_path / "c.yaml", data={"local_dir": str(tiny_data(tmp_path / "data", 0))})
    previous = os.umask(0o027)
    try:
        result = snake(work, config, "results/data/manifest.tsv")
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("inventory.tsv", "manifest.tsv"):
        assert (work / "results/data" / name).stat().st_mode & 0o777 == 0o640, name


def test_the_manual_says_how_to_unlock_after_a_kill():
    assert "--unlock" in (PROJECT / "docs" / "troubleshooting.md").read_text()
    assert "--unlock" in (PROJECT / "README.md").read_text()


# 28-31: no loaded file runs code ---------------------------------------------------------------------------


class CreatesAFile:
    """Unpickled without weights_only, this calls open(path, "w"): the file appears if a loader ran it."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class RunsAShell:
    """The same through os.system (another module, another opcode path in the unpickler)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def best_shaped(payload):
    """A file shaped like a best.pt of this pipeline whose weights are the payload."""
    return {
        "model": "bagnet9",
        "head": "linear",
        "classes": ["a", "b"],
        "image_size": 32,
        "epoch": 1,
        "val_acc": 0.5,
        "val_loss": 1.0,
        "settings": {},
        "state_dict": payload,
    }


@pytest.mark.parametrize("payload", [CreatesAFile, RunsAShell])
@pytest.mark.parametrize("shape", ["best.pt", "state dict"])
def test_explain_weights_never_run_code(tmp_path, payload, shape):
    marker = tmp_path / "created_by_the_payload"
    evil = tmp_path / "downloaded.pt"
    torch.save(best_shaped(payload(marker)) if shape == "best.pt" else {"conv1.weight": payload(marker)}, evil)
    image = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (120, 130, 140)).save(image)
    out = tmp_path / "explained"
    result = run_cli(
        "explain",
        str(image),
        "--model",
        "bagnet9",
        "--weights",
        str(evil),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--threads",
        "1",
    )
    assert_one_line_error(result, f"cannot read weights file {evil}", "not loaded", "could run code")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not marker.exists() and not out.exists()


def test_best_checkpoint_never_runs_code(tmp_path):
    marker = tmp_path / "created_by_the_payload"
    evil = tmp_path / "best.pt"
    torch.save(best_shaped(CreatesAFile(marker)), evil)
    result = run_cli(*evaluate_args(evil, tmp_path))
    out = tmp_path / "predictions.tsv"
    assert_one_line_error(result, f"cannot read checkpoint {evil}", "io.open", "could run code", "rerun the train job")
    assert not marker.exists() and not out.exists()


def test_resume_checkpoint_never_runs_code(tmp_path):
    marker = tmp_path / "created_by_the_payload"
    out = tmp_path / "run"
    out.mkdir()
    torch.save({"settings": "x", "data": "y", "state": RunsAShell(marker)}, out / "last.pt")
    saved = (out / "last.pt").read_bytes()
    result = run_cli(*train_args(tiny_manifest(tmp_path, 0), out))
    assert_one_line_error(result, f"cannot read the resume checkpoint {out / 'last.pt'}", "could run code", "delete it")
    assert not marker.exists() and (out / "last.pt").read_bytes() == saved and not (out / "best.pt").exists()


def test_a_best_checkpoint_without_its_head_names_the_key(tmp_path):
    record = best_shaped({"fc.weight": torch.zeros(2, 2)})
    del record["head"]
    best = tmp_path / "best.pt"
    torch.save(record, best)
    result = run_cli(*evaluate_args(best, tmp_path))
    assert_one_line_error(
        result, f"{best} is not a usable bagnet-repro checkpoint: it has no 'head' key", "rerun the train job"
    )


# 32: image sizes have an upper bound, with the memory the size would take -------------------------------


@pytest.mark.parametrize(
    "sections,key,gib",
    [
        ({"train": {"image_size": 100000}}, "train.image_size", "112 GiB"),
        ({"receptive_fields": {"measure_size": 5000}}, "receptive_fields.measure_size", "0.279 GiB"),
        ({"data": {"demo": {"width": 8192}}}, "data.demo.width", "0.75 GiB"),
        (
            {"feature_amounts": {"dataset": "cifar10", "options": {"image_size": 8192}}},
            "feature_amounts.options.image_size",
            "0.75 GiB",
        ),
        ({"pretrain": {"options": {"image_size": 100000}}}, "pretrain.options.image_size", "112 GiB"),
    ],
)
def test_a_huge_image_size_is_refused_at_start_up_with_its_memory(tmp_path, sections, key, gib):
    sections.setdefault("data", {}).setdefault("local_dir", str(tmp_path))
    config = write_config(tmp_path / "c.yaml", **sections)
    words = (f"config error at '{key}':", "is above the maximum image size 4096", f"is {gib} as float32 input")
    checked = run_cli("check-config", config)
    assert_one_line_error(checked, *words)
    if key == "train.image_size":  # the workflow says the same at start-up, before any job
        planned = run_snakemake(tmp_path / "work", "-n", "--configfile", config)
        assert planned.returncode == 1 and all(word in planned.stderr for word in words), planned.stderr[-2000:]
        assert not (tmp_path / "work" / "results").exists()


def test_every_image_size_key_of_the_schema_has_the_one_maximum():
    from bagnet_repro.config.limits import IMAGE_SIZE_KEYS, MAX_IMAGE_SIZE
    from bagnet_repro.config.train_settings import TrainSettings

    schema = yaml.safe_load((PROJECT / "workflow/schemas/config.schema.yaml").read_text())
    for key in IMAGE_SIZE_KEYS:
        entry = schema
        for part in key.split("."):
            entry = entry["properties"][part]
        assert entry["maximum"] == MAX_IMAGE_SIZE, key
    with pytest.raises(UserError, match="image_size must be >= 32 and <= 4096, got 4097"):
        TrainSettings(model="bagnet9", image_size=MAX_IMAGE_SIZE + 1)  # --options as from the config


# 33: a RuntimeError from torch is one line; BAGNET_REPRO_TRACEBACK=on shows its traceback ---------------------


def test_a_runtime_error_is_one_line_and_its_traceback_on_request(tmp_path):
    args = [
        "receptive-fields",
        "--models",
        "bagnet9",
        "--image-size",
        "1",
        "--measure-size",
        "40",
        "--layers",
        str(tmp_path / "layers.csv"),
        "--summary",
        str(tmp_path / "summary.csv"),
    ]
    result = run_cli(*args)  # a 1 x 1 input reaches a 3 x 3 convolution: torch raises a RuntimeError
    assert_one_line_error(result, "Kernel size can't be greater than actual input size", "BAGNET_REPRO_TRACEBACK=on")
    assert not (tmp_path / "layers.csv").exists()

    def with_traceback(value):
        env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"), BAGNET_REPRO_TRACEBACK=value)
        return subprocess.run([sys.executable, "-m", "bagnet_repro", *args], env=env, capture_output=True, text=True)

    traced = with_traceback("ON")
    assert traced.returncode == 1 and "Traceback" in traced.stderr and "RuntimeError" in traced.stderr
    assert_one_line_error(with_traceback("off"), "Kernel size can't be greater than actual input size")
    for value in ("0", "garbage", "1"):  # never silently taken as on: refused before the command runs
        refused = with_traceback(value)
        expected = f"environment variable BAGNET_REPRO_TRACEBACK={value!r} is not one of: on, off (unset: off)"
        assert_one_line_error(refused, expected)
        assert "Kernel size" not in refused.stderr
    assert not (tmp_path / "layers.csv").exists()


def test_a_wrong_switch_stops_a_command_that_does_not_read_it():
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"), BAGNET_REPRO_GPU_CHECK="false")
    command = [sys.executable, "-m", "bagnet_repro", "code-digest"]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert_one_line_error(result, "environment variable BAGNET_REPRO_GPU_CHECK='false' is not one of: on, off")
    assert result.stdout == ""
