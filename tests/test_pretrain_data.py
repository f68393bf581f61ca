"""Pretraining data, offline: ImageNet validation folders from LOC_val_solution.csv (idempotent), the
stratified 95/5 hold-out split (seed 42), and Imagenette downloaded from 127.0.0.1 through the rules."""

import csv
import hashlib
import io
import tarfile
from collections import Counter

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from bagnet_repro.data.imagenet import holdout_split, prepare_val
from bagnet_repro.errors import UserError
from helpers import PROJECT, run_snakemake

WNIDS = ["n01440764", "n02102040", "n02979186"]


def jpeg_bytes(shade):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (shade, shade, shade)).save(buffer, format="JPEG")
    return buffer.getvalue()


def noisy_jpeg(class_index, index):
    """Coloured noise with a tint per class: something a network can learn from (plain shades make BN blow up)."""
    pixels = np.random.default_rng(index * 10 + class_index).integers(0, 60, (24, 24, 3), dtype=np.uint8)
    pixels[..., class_index % 3] += 150
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def kaggle_val_layout(root):
    """ILSVRC/Data/CLS-LOC/val/<ImageId>.JPEG flat, and LOC_val_solution.csv with boxes as on Kaggle."""
    val = root / "ILSVRC" / "Data" / "CLS-LOC" / "val"
    val.mkdir(parents=True)
    rows = ["ImageId,PredictionString"]
    for index in range(9):
        image_id = f"ILSVRC2012_val_{index + 1:08d}"
        (val / f"{image_id}.JPEG").write_bytes(jpeg_bytes(index * 20))
        wnid = WNIDS[index % 3]
        rows.append(f"{image_id},{wnid} 10 20 30 40 {wnid} 1 2 3 4")
    (root / "LOC_val_solution.csv").write_text("\n".join(rows) + "\n")
    return val


def test_validation_images_go_to_class_folders_idempotently(tmp_path):
    val = kaggle_val_layout(tmp_path)
    solution = tmp_path / "LOC_val_solution.csv"
    first = prepare_val(val, solution)
    assert first == {wnid: 3 for wnid in WNIDS}
    assert sorted(p.relative_to(val).as_posix() for p in val.rglob("*.JPEG"))[:2] == [
        "n01440764/ILSVRC2012_val_00000001.JPEG",
        "n01440764/ILSVRC2012_val_00000004.JPEG",
    ]
    assert not list(val.glob("*.JPEG"))
    assert prepare_val(val, solution) == first  # a second run finds everything in place
    (val / WNIDS[0] / "ILSVRC2012_val_00000001.JPEG").unlink()
    with pytest.raises(UserError, match="ILSVRC2012_val_00000001.JPEG is listed in LOC_val_solution.csv but"):
        prepare_val(val, solution)


def test_holdout_split_is_stratified_and_seeded(tmp_path):
    train = tmp_path / "train"
    for wnid in WNIDS:
        (train / wnid).mkdir(parents=True)
        for index in range(40):
            (train / wnid / f"{wnid}_{index}.JPEG").write_bytes(b"x")
    counts = holdout_split(train, tmp_path / "split.tsv")
    assert counts == {"train": 114, "val": 6, "classes": 3}
    with open(tmp_path / "split.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert Counter(r["class"] for r in rows if r["split"] == "val") == {wnid: 2 for wnid in WNIDS}
    holdout_split(train, tmp_path / "again.tsv")
    assert (tmp_path / "again.tsv").read_text() == (tmp_path / "split.tsv").read_text()
    holdout_split(train, tmp_path / "other.tsv", seed=1)
    assert (tmp_path / "other.tsv").read_text() != (tmp_path / "split.tsv").read_text()


@pytest.mark.slow
def test_imagenette_pretraining_feeds_fine_tuning_through_the_rules(tmp_path, file_server):
    """Download, extract and split Imagenette, pretrain on 2 CPU ranks (torchrun), fine-tune from it: the workflow
    end to end through its pretraining rules (slow: about 50 s on 2 cores)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for split, count in (("train", 20), ("val", 4)):
            for class_index, wnid in enumerate(WNIDS):
                for index in range(count):
                    data = noisy_jpeg(class_index, index)
                    info = tarfile.TarInfo(f"imagenette2-320/{split}/{wnid}/{wnid}_{index}.JPEG")
                    info.size = len(data)
                    bundle.addfile(info, io.BytesIO(data))
    file_server.files["imagenette2-320.tgz"] = buffer.getvalue()
    config = yaml.safe_load((PROJECT / "configs" / "demo.yaml").read_text())
    archive_md5 = hashlib.md5(buffer.getvalue()).hexdigest()
    config["pretrain"] = {
        "dataset": "imagenette",
        "imagenette": {"url": file_server.url("imagenette2-320.tgz"), "md5": archive_md5},
        "models": ["bagnet9"],
        "processes": 2,
        "device": "cpu",
        "threads": 2,
        "workers": 0,
        "options": {"epochs": 1, "batch_size": 8, "image_size": 32, "precision": "fp32"},
    }
    config["weights"]["models"]["bagnet9"] = "pretrained"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, "results/models/bagnet9/seed0/best.pt", "--cores", "2", "--configfile", str(path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(tmp_path / "results" / "pretrain" / "imagenette_split.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert Counter(r["split"] for r in rows) == {"train": 57, "val": 3}
    assert all("/imagenette2-320/train/" in r["path"] for r in rows)
    assert f"matches md5 {archive_md5}" in (tmp_path / "logs/pretrain/download_imagenette2-320.tgz.log").read_text()
    pretrained = torch.load(tmp_path / "results/pretrained/imagenette/bagnet9/weights.pt", weights_only=True)
    assert pretrained["classes"] == WNIDS and pretrained["processes"] == 2
    assert "replicas equal" in (tmp_path / "logs/pretrain/imagenette_bagnet9.log").read_text()
    # Fine-tuning started from those weights (the 3-class head replaced by the 15-scene one).
    fine_tuned = torch.load(tmp_path / "results/models/bagnet9/seed0/best.pt", weights_only=True)
    assert fine_tuned["settings"]["weights"] == "results/pretrained/imagenette/bagnet9/weights.pt"
    assert (
        "starting from results/pretrained/imagenette/bagnet9/weights.pt"
        in (tmp_path / "logs/train/bagnet9_seed0.log").read_text()
    )
