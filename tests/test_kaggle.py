"""ImageNet from Kaggle through the rules, offline. Kaggle itself cannot be reached from a test, so a
stand-in ``kaggle`` executable on PATH plays the CLI: it takes the same arguments, requires credentials as
the real one does, echoes the key (as a careless tool might) and writes the competition zip in the real
layout. The credentials must reach it, never the logs, and the layout must come out ready for the split."""

import csv
import io
import json
import os
import stat
import sys
import zipfile
from collections import Counter

import pytest
import yaml
from PIL import Image

from bagnet_repro.data.kaggle import COMPETITION, download_imagenet, find_credentials
from bagnet_repro.errors import UserError
from helpers import PROJECT, run_snakemake

SECRET = "0123456789abcdef-not-a-real-key"
WNIDS = ["n01440764", "n02102040"]

STAND_IN = r'''#!{python}
"""Stand-in for `kaggle competitions download -c NAME -p DIR`."""
import os, sys, json, pathlib
args = sys.argv[1:]
assert args[:2] == ["competitions", "download"], args
name, folder = args[args.index("-c") + 1], pathlib.Path(args[args.index("-p") + 1])
key = os.environ.get("KAGGLE_KEY")
if not key:
    config = pathlib.Path(os.environ.get("KAGGLE_CONFIG_DIR") or pathlib.Path.home() / ".kaggle") / "kaggle.json"
    key = json.loads(config.read_text())["key"] if config.is_file() else None
if not key:
    print("401 - Unauthorized"); sys.exit(1)
print(f"Downloading {{name}}.zip to {{folder}} (authenticated with key {{key}})")
(folder / f"{{name}}.zip").write_bytes(pathlib.Path({archive!r}).read_bytes())
'''


def kaggle_zip(path):
    """The competition zip in the real layout: train class folders, flat val images with LOC_val_solution.csv."""

    def jpeg(shade):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), (shade, shade, shade)).save(buffer, format="JPEG")
        return buffer.getvalue()

    with zipfile.ZipFile(path, "w") as bundle:
        for wnid in WNIDS:
            for index in range(20):
                bundle.writestr(f"ILSVRC/Data/CLS-LOC/train/{wnid}/{wnid}_{index}.JPEG", jpeg(index))
        rows = ["ImageId,PredictionString"]
        for index in range(4):
            image_id = f"ILSVRC2012_val_{index + 1:08d}"
            bundle.writestr(f"ILSVRC/Data/CLS-LOC/val/{image_id}.JPEG", jpeg(index))
            rows.append(f"{image_id},{WNIDS[index % 2]} 1 2 3 4")
        bundle.writestr("LOC_val_solution.csv", "\n".join(rows) + "\n")
        bundle.writestr("LOC_synset_mapping.txt", "".join(f"{w} class {w}\n" for w in WNIDS))


def setup(tmp_path):
    kaggle_zip(tmp_path / "competition.zip")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "kaggle"
    cli.write_text(STAND_IN.format(python=sys.executable, archive=str(tmp_path / "competition.zip")))
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    config = yaml.safe_load((PROJECT / "configs" / "demo.yaml").read_text())
    config["pretrain"] = {
        "dataset": "imagenet",
        "imagenet_source": "kaggle",
        "imagenet_dir": str(tmp_path / "imagenet"),
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}
    return bin_dir, dict(env, HOME=str(home))


def test_kaggle_download_prepares_imagenet_and_keeps_the_key_out_of_logs(tmp_path):
    bin_dir, env = setup(tmp_path)
    (tmp_path / "home" / ".kaggle").mkdir()
    (tmp_path / "home" / ".kaggle" / "kaggle.json").write_text(json.dumps({"username": "me", "key": SECRET}))
    result = run_snakemake(
        tmp_path,
        "results/pretrain/imagenet_split.tsv",
        "--cores",
        "1",
        "--configfile",
        str(tmp_path / "config.yaml"),
        env=env,
        path_first=bin_dir,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    root = tmp_path / "imagenet"
    assert sorted(p.name for p in root.iterdir()) == ["ILSVRC", "LOC_synset_mapping.txt", "LOC_val_solution.csv"]
    val = root / "ILSVRC" / "Data" / "CLS-LOC" / "val"
    assert Counter(p.parent.name for p in val.rglob("*.JPEG")) == {WNIDS[0]: 2, WNIDS[1]: 2}
    with open(tmp_path / "results" / "pretrain" / "imagenet_split.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert Counter(r["split"] for r in rows) == {"train": 38, "val": 2}
    log = (tmp_path / "logs" / "pretrain" / "imagenet_kaggle.log").read_text()
    assert f"Kaggle credentials from {tmp_path / 'home' / '.kaggle' / 'kaggle.json'}" in log
    assert "authenticated with key ********" in log
    everything = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".log", ".json", ".tsv", ".txt")]
    assert not [p for p in everything if SECRET in p.read_text(errors="replace") and p.name != "kaggle.json"]
    assert SECRET not in result.stdout + result.stderr


def test_without_credentials_the_rule_stops_with_one_line(tmp_path):
    bin_dir, env = setup(tmp_path)
    result = run_snakemake(
        tmp_path,
        "results/pretrain/imagenet_kaggle.json",
        "--cores",
        "1",
        "--configfile",
        str(tmp_path / "config.yaml"),
        env=env,
        path_first=bin_dir,
    )
    assert result.returncode != 0
    log = (tmp_path / "logs" / "pretrain" / "imagenet_kaggle.log").read_text().strip().splitlines()
    assert log[-1].startswith("error: Kaggle credentials not found: put kaggle.json (or access_token) in ")
    assert not (tmp_path / "results" / "pretrain" / "imagenet_kaggle.json").exists()
    assert not (tmp_path / "imagenet").exists()


def test_credential_sources_in_the_kaggle_cli_order(tmp_path):
    assert find_credentials({"KAGGLE_API_TOKEN": "tok"}) == ("the KAGGLE_API_TOKEN environment variable", ["tok"])
    pair = find_credentials({"KAGGLE_USERNAME": "me", "KAGGLE_KEY": "k", "KAGGLE_CONFIG_DIR": str(tmp_path)})
    assert pair == ("the KAGGLE_USERNAME and KAGGLE_KEY environment variables", ["k"])
    (tmp_path / "kaggle.json").write_text("not json")
    with pytest.raises(UserError, match=r"kaggle.json is not a kaggle.json with a 'key'"):
        find_credentials({"KAGGLE_CONFIG_DIR": str(tmp_path)})


def test_a_cut_short_archive_is_named_with_the_way_out(tmp_path, monkeypatch):
    bin_dir, _ = setup(tmp_path)
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    staging = tmp_path / "imagenet" / ".kaggle-download"
    staging.mkdir(parents=True)
    (staging / f"{COMPETITION}.zip").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(UserError, match=r"not a zip or tar archive: .*; delete .* to download it again"):
        download_imagenet(tmp_path / "imagenet", cli=str(bin_dir / "kaggle"))
    assert sorted(p.name for p in (tmp_path / "imagenet").iterdir()) == [".kaggle-download"]
