"""Pretrained weights: original BagNet files and pytorchcv zoo files, served from 127.0.0.1, load strictly;
corrupt or wrong-hash files fail with one line and never reach the cache."""

import hashlib
import io
import zipfile

import pytest
import torch
from pytorchcv.model_provider import get_model as pytorchcv_model
from pytorchcv.models.common.model_store import get_model_name_suffix_data

from bagnet_repro.errors import UserError
from bagnet_repro.models import build_model, get_bagnet
from bagnet_repro.models.pytorchcv_compat import convert_state_dict
from bagnet_repro.models.sources import WEIGHT_SOURCES
from bagnet_repro.models.weights import bagnet_imagenet_file, pytorchcv_file
from helpers import randomize_batchnorm


def serialized(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def cached_files(cache):
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def original_bagnet9_file():
    """bytes of a state dict exactly as the original release stores it (plain keys, 1000 classes)."""
    torch.manual_seed(1)
    model = get_bagnet("bagnet9", num_classes=1000)
    return serialized(model.state_dict()), model.state_dict()


def test_original_file_format_served_locally_loads_strictly(tmp_path, file_server, original_bagnet9_file):
    data, reference = original_bagnet9_file
    name = WEIGHT_SOURCES["bagnet9"].imagenet
    file_server.files[name] = data
    digest = hashlib.sha256(data).hexdigest()
    cache = tmp_path / "cache"
    path = bagnet_imagenet_file("bagnet9", cache, base_url=file_server.url(""), sha256=digest)
    assert path == cache / "bagnet" / name
    model = get_bagnet("bagnet9", weights={"path": str(path), "sha256": digest}, num_classes=1000)
    for key, tensor in model.state_dict().items():
        assert torch.equal(tensor, reference[key]), key
    # Fine-tuning: the whole network loads at 1000 classes, then the report head replaces fc.
    fine = build_model(
        "bagnet9", 15, weights={"url": file_server.url(name), "sha256": digest}, head="report", cache=cache
    )
    assert fine.fc[-1].out_features == 15
    assert torch.equal(fine.layer1[0].conv1.weight, reference["layer1.0.conv1.weight"])


def test_checkpoint_wrapping_and_dataparallel_prefix_are_unwrapped(tmp_path, original_bagnet9_file):
    _, reference = original_bagnet9_file
    wrapped = tmp_path / "checkpoint.pth.tar"
    torch.save({"epoch": 90, "state_dict": {f"module.{k}": v for k, v in reference.items()}}, wrapped)
    model = get_bagnet("bagnet9", weights=str(wrapped), num_classes=1000)
    assert torch.equal(model.conv2.weight, reference["conv2.weight"])


def test_file_whose_hash_differs_from_the_published_name_fails_and_is_not_cached(
    tmp_path, file_server, original_bagnet9_file
):
    data, _ = original_bagnet9_file
    file_server.files[WEIGHT_SOURCES["bagnet9"].imagenet] = data  # a random model cannot match the real digest 34f4ccd2
    cache = tmp_path / "cache"
    with pytest.raises(UserError, match=r"checksum mismatch .*expected sha256 34f4ccd2\.\.\., got "):
        bagnet_imagenet_file("bagnet9", cache, base_url=file_server.url(""))
    assert cached_files(cache) == []


def test_truncated_and_corrupted_downloads_fail_and_are_not_cached(tmp_path, file_server, original_bagnet9_file):
    data, _ = original_bagnet9_file
    digest = hashlib.sha256(data).hexdigest()
    cache = tmp_path / "cache"
    file_server.files["cut.pth.tar"] = data
    file_server.mode["cut.pth.tar"] = "truncate"
    with pytest.raises(UserError, match="download failed after 3 attempts"):
        build_model("bagnet9", 15, weights={"url": file_server.url("cut.pth.tar"), "sha256": digest}, cache=cache)
    # What arrived is kept as a .part for the next attempt to resume; nothing unverified is in the cache.
    parts = [p for p in cache.rglob("*.part")]
    assert len(parts) == 1 and parts[0].stat().st_size < len(data)
    parts[0].unlink()
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0xFF
    file_server.files["flipped.pth.tar"] = bytes(flipped)
    with pytest.raises(UserError, match="checksum mismatch"):
        build_model("bagnet9", 15, weights={"url": file_server.url("flipped.pth.tar"), "sha256": digest}, cache=cache)
    assert cached_files(cache) == []


def test_unreadable_or_foreign_weights_are_one_clear_line(tmp_path, original_bagnet9_file):
    garbage = tmp_path / "garbage.pth.tar"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(UserError, match="cannot read weights file .*garbage.pth.tar"):
        get_bagnet("bagnet9", weights=str(garbage))
    _, reference = original_bagnet9_file
    other = tmp_path / "bagnet9.pth"
    torch.save(reference, other)
    with pytest.raises(UserError, match=r"do not fit BagNet: 1 unexpected \(e.g. conv2.weight\); 3 wrong shape"):
        get_bagnet("bagnet33_v2", weights=str(other))
    with pytest.raises(UserError, match="no published ImageNet weights for bagnet33_v2"):
        get_bagnet("bagnet33_v2", weights="imagenet")
    with pytest.raises(UserError, match="weights file not found"):
        build_model("resnet50", 15, weights=str(tmp_path / "missing.pth"))


def randomized_pytorchcv(name):
    """A pytorchcv model with random weights and non-trivial BN statistics, in eval mode."""
    torch.manual_seed(3)
    return randomize_batchnorm(pytorchcv_model(name, pretrained=False)).eval()


@pytest.mark.parametrize("name", ["cbam_resnet50", "resnet50", "densenet121", "densenet169"])
def test_pytorchcv_state_dict_gives_the_same_network(name):
    theirs = randomized_pytorchcv(name)
    ours = build_model(name, 1000, head="linear").eval()
    ours.load_state_dict(convert_state_dict(theirs.state_dict(), ours.state_dict(), name), strict=True)
    x = torch.randn(2, 3, 224, 224)  # pytorchcv pools with a fixed 7x7 window, so 224 px
    with torch.no_grad():
        expected, got = theirs(x), ours(x)
    scale = expected.abs().max()
    assert (expected - got).abs().max() <= 1e-5 * scale


def test_torchvision_resnet50_is_not_the_report_network():
    """The positional mapping fits torchvision's ResNet-50 too, but the function differs (stride placement)."""
    import torchvision

    theirs = randomized_pytorchcv("resnet50")
    tv = torchvision.models.resnet50().eval()
    tv.load_state_dict(convert_state_dict(theirs.state_dict(), tv.state_dict(), "resnet50"))
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert (theirs(x) - tv(x)).abs().max() > 1e-2 * theirs(x).abs().max()
    with pytest.raises(UserError, match="torchvision has no weights for the report's resnet50"):
        build_model("resnet50", 15, weights="torchvision")


def zoo_archive(name):
    """The zoo's release layout: <name>-<error>-<sha1[:8]>.pth inside <same>.zip."""
    error, sha1, release = get_model_name_suffix_data(name)
    file_name = f"{name}-{error}-{sha1[:8]}.pth"
    state = serialized(randomized_pytorchcv(name).state_dict())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(file_name, state)
    return f"releases/download/{release}/{file_name}.zip", buffer.getvalue(), hashlib.sha1(state).hexdigest()


def test_pytorchcv_zoo_download_checks_sha1_caches_and_loads(tmp_path, file_server):
    route, archive, sha1 = zoo_archive("cbam_resnet50")
    file_server.files[route] = archive
    cache = tmp_path / "cache"
    repo = file_server.url("").rstrip("/")
    with pytest.raises(UserError, match="checksum mismatch for pytorchcv weights cbam_resnet50-"):
        pytorchcv_file("cbam_resnet50", cache, repo_url=repo)  # the zoo's recorded sha1 is not our random file's
    assert cached_files(cache) == []
    path = pytorchcv_file("cbam_resnet50", cache, repo_url=repo, sha1=sha1)
    assert cached_files(cache) == [f"pytorchcv/{path.name}"]
    requests = len(file_server.requests)
    model = build_model("cbam_resnet50", 15, weights="pytorchcv", cache=cache)  # from the cache, no download
    assert len(file_server.requests) == requests
    theirs = torch.load(path, weights_only=True)
    gate = theirs["features.stage4.unit3.cbam.sp_gate.conv.conv.weight"]
    assert torch.equal(model.layer4[2].spatial_gate.conv.weight, gate)
    assert model.fc[-1].out_features == 15


def test_fetch_weights_rule_records_the_verified_file(tmp_path, original_bagnet9_file):
    import json

    import yaml

    from helpers import PROJECT, run_snakemake

    data, _ = original_bagnet9_file
    weights = tmp_path / "bagnet8.pth.tar"
    weights.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    config = yaml.safe_load((PROJECT / "configs" / "demo.yaml").read_text())
    config["weights"]["cache"] = str(tmp_path / "cache")
    config["weights"]["models"].update(
        bagnet9={"url": str(weights), "sha256": digest}, bagnet17={"url": str(weights), "sha256": "0" * 64}
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, "results/weights/bagnet9.json", "--cores", "1", "--configfile", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads((tmp_path / "results" / "weights" / "bagnet9.json").read_text())
    assert record == {"model": "bagnet9", "weights": str(weights), "file": str(weights), "sha256": digest}
    plan = run_snakemake(tmp_path, "-n", "-p", "--configfile", str(path))
    assert f"--weights {weights} --weights-sha256 {digest}" in plan.stdout
    # The train job is handed the record it waits for (and loads the file it names).
    train = next(line for line in plan.stdout.splitlines() if "bagnet_repro train" in line and "bagnet9/" in line)
    assert "--weights-record results/weights/bagnet9.json" in train
    result = run_snakemake(tmp_path, "results/weights/bagnet17.json", "--cores", "1", "--configfile", str(path))
    assert result.returncode != 0
    log = (tmp_path / "logs" / "fetch_weights" / "bagnet17.log").read_text().strip().splitlines()
    assert log[-1] == f"error: checksum mismatch for {weights}: expected sha256 {'0' * 64}, got {digest}"
    assert not (tmp_path / "results" / "weights" / "bagnet17.json").exists()


def test_a_train_job_loads_the_file_its_weights_record_names_not_the_cache(tmp_path, demo_data, original_bagnet9_file):
    """The train rule passes the fetch_weights record it declares: the job loads the verified file the record
    names even where its own cache lacks it (another host's cache, a cache moved since), and refuses in one
    line, writing nothing, when that file is gone."""
    import json

    from bagnet_repro.data.inventory import build_inventory, write_records
    from bagnet_repro.data.split import seeded_split
    from bagnet_repro.models.trained import read_trained
    from helpers import run_cli

    data, reference = original_bagnet9_file
    fetched = tmp_path / "fetch-host-cache" / "bagnet" / WEIGHT_SOURCES["bagnet9"].imagenet
    fetched.parent.mkdir(parents=True)
    fetched.write_bytes(data)
    record = tmp_path / "results" / "weights" / "bagnet9.json"
    record.parent.mkdir(parents=True)
    # What fetch-weights writes (test_fetch_weights_rule_records_the_verified_file holds its form).
    record.write_text(
        json.dumps(
            {
                "model": "bagnet9",
                "weights": "imagenet",
                "file": str(fetched),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    )
    manifest = tmp_path / "manifest.tsv"
    write_records(seeded_split(build_inventory(demo_data), 0.2, test_per_class=2, seed=0), manifest, "split")
    job_cache = tmp_path / "job-cache"
    job_cache.mkdir()
    options = {"image_size": 32, "epochs": 1, "batch_size": 16, "lr": 1e-12}

    def train(out):
        return run_cli(
            "train", "--manifest", str(manifest), "--model", "bagnet9", "--best", str(out / "best.pt"),
            "--history", str(out / "history.csv"), "--checkpoint", str(out / "last.pt"), "--recipe", "report",
            "--options", json.dumps(options), "--weights", "imagenet", "--weights-cache", str(job_cache),
            "--weights-record", str(record), "--seed", "0", "--device", "cpu", "--threads", "1",
        )  # fmt: skip

    result = train(tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert cached_files(job_cache) == []  # nothing fetched again
    trained = read_trained(tmp_path / "run" / "best.pt")["state_dict"]
    for key in ("conv1.weight", "layer1.0.conv1.weight", "layer4.1.conv3.weight"):
        assert torch.allclose(trained[key], reference[key], atol=1e-6), key

    fetched.unlink()
    result = train(tmp_path / "gone")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: the weights file {fetched} named by {record} is gone; delete {record} to fetch it again"
    )
    assert not (tmp_path / "gone").exists() or not any((tmp_path / "gone").iterdir())
    assert cached_files(job_cache) == []


def test_the_precision_job_of_an_imagenet_bagnet_loads_the_recorded_file(tmp_path, demo_data, original_bagnet9_file):
    """The precision rule hands its ImageNet BagNet job the fetch_weights record too (no cache lookup)."""
    import json

    from bagnet_repro.data.inventory import build_inventory, write_records
    from bagnet_repro.data.split import seeded_split
    from helpers import run_cli

    data, _ = original_bagnet9_file
    fetched = tmp_path / "elsewhere" / "bagnet9.pth.tar"
    fetched.parent.mkdir()
    fetched.write_bytes(data)
    record = tmp_path / "bagnet9.json"
    digest = hashlib.sha256(data).hexdigest()
    record.write_text(json.dumps({"model": "bagnet9", "weights": "imagenet", "file": str(fetched), "sha256": digest}))
    manifest = tmp_path / "manifest.tsv"
    write_records(seeded_split(build_inventory(demo_data), 0.2, test_per_class=2, seed=0), manifest, "split")
    out = tmp_path / "out"

    def precision():
        return run_cli(
            "precision", "--model", "bagnet9", "--weights-record", str(record), "--image-size", "32",
            "--weights-cache", str(tmp_path / "empty-cache"), "--manifest", str(manifest), "--max-images", "2",
            "--out-table", str(out / "modes.tsv"), "--out-census", str(out / "census.tsv"),
            "--out-histogram", str(out / "weights.tsv"), "--batch-size", "2", "--device", "cpu", "--threads", "1",
        )  # fmt: skip

    result = precision()
    assert result.returncode == 0, result.stderr
    assert (out / "modes.tsv").is_file() and not (tmp_path / "empty-cache").exists()
    fetched.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # changed since it was verified
    result = precision()
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: checksum mismatch for {fetched}")
