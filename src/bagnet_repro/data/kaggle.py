"""ImageNet (ILSVRC 2012 CLS-LOC) from Kaggle's competition, with the kaggle CLI and the user's credentials.

The credentials are whatever the kaggle CLI accepts: KAGGLE_API_TOKEN, KAGGLE_USERNAME with KAGGLE_KEY, or
kaggle.json / access_token in $KAGGLE_CONFIG_DIR or ~/.kaggle. They are checked for presence only, reach
the CLI untouched through its environment, and are masked in everything it prints into our logs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from ..config.datasets import IMAGENET_KAGGLE_LAYOUT as LAYOUT
from ..errors import UserError
from .extract import extract_archive

COMPETITION = "imagenet-object-localization-challenge"
MASK = "********"


def _config_dir(env: dict) -> Path:
    return Path(env["KAGGLE_CONFIG_DIR"]) if env.get("KAGGLE_CONFIG_DIR") else Path.home() / ".kaggle"


def find_credentials(env: dict | None = None) -> tuple[str, list[str]]:
    """(where the credentials are, the secret strings to mask); a clear error when there are none."""
    env = dict(os.environ if env is None else env)
    if env.get("KAGGLE_API_TOKEN"):  # the token itself, or the path of a file holding it
        value = env["KAGGLE_API_TOKEN"]
        secrets = [value] + ([Path(value).read_text().strip()] if Path(value).is_file() else [])
        return "the KAGGLE_API_TOKEN environment variable", secrets
    if env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY"):
        return "the KAGGLE_USERNAME and KAGGLE_KEY environment variables", [env["KAGGLE_KEY"]]
    folder = _config_dir(env)
    token = folder / "access_token"
    if token.is_file():
        return str(token), [token.read_text().strip()]
    legacy = folder / "kaggle.json"
    if legacy.is_file():
        try:
            key = json.loads(legacy.read_text())["key"]
        except (ValueError, KeyError, TypeError):
            raise UserError(
                f"{legacy} is not a kaggle.json with a 'key' (download a new one from your Kaggle account settings)"
            ) from None
        return str(legacy), [str(key)]
    raise UserError(
        f"Kaggle credentials not found: put kaggle.json (or access_token) in {folder}, or set "
        "KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY"
    )


def mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def has_layout(root: Path) -> bool:
    return all((root / part).exists() for part in LAYOUT)


def _run_cli(command: list[str], secrets: list[str], competition: str) -> None:
    """Run the kaggle CLI, printing its output with the secrets masked; one line on failure."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert process.stdout is not None  # stdout=PIPE above gives the process a readable stdout
    last = ""
    for line in process.stdout:
        line = mask(line.rstrip("\n"), secrets)
        print(line, flush=True)
        last = line.strip() or last
    if process.wait() != 0:
        hint = ""
        if "403" in last or "Forbidden" in last:
            hint = f"; accept the rules at https://www.kaggle.com/competitions/{competition}/rules first"
        raise UserError(f"kaggle competitions download failed (exit {process.returncode}): {last}{hint}")


def download_imagenet(root: str | os.PathLike, competition: str = COMPETITION, cli: str = "kaggle") -> dict:
    """Download and unpack the competition into ``root`` (the Kaggle layout); a complete ``root`` is kept.

    The zip is downloaded into ``root/.kaggle-download`` and removed once unpacked; entries already in
    ``root`` are never overwritten.
    """
    root = Path(root)
    if has_layout(root):
        print(f"{root} already holds ImageNet in the Kaggle layout; nothing to download", flush=True)
        return {"root": str(root), "downloaded": False}
    source, secrets = find_credentials()
    executable = shutil.which(cli)
    if executable is None:
        raise UserError(f"the kaggle CLI ({cli}) is not installed: pip install -e '.[kaggle]' (or pip install kaggle)")
    print(f"Kaggle credentials from {source}", flush=True)
    staging = root / ".kaggle-download"
    staging.mkdir(parents=True, exist_ok=True)
    archive = staging / f"{competition}.zip"
    if not archive.is_file():
        _run_cli([executable, "competitions", "download", "-c", competition, "-p", str(staging)], secrets, competition)
    if not archive.is_file():
        raise UserError(f"the kaggle CLI finished but {archive} is not there")
    try:
        unpacked = extract_archive(archive, staging / "unpacked")
    except UserError as exc:  # e.g. a transfer cut short, which the kaggle CLI would not fetch again
        raise UserError(f"{exc}; delete {archive} to download it again") from None
    for entry in sorted(unpacked.iterdir()):
        target = root / entry.name
        if not target.exists():
            os.replace(entry, target)
    if not has_layout(root):
        missing = [part for part in LAYOUT if not (root / part).exists()]
        raise UserError(f"{archive.name} did not give the Kaggle layout in {root}: missing {', '.join(missing)}")
    shutil.rmtree(staging)
    return {"root": str(root), "downloaded": True, "competition": competition}
