"""Helpers the tests import: the project root, command runners, a local HTTP server with range support."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SHARED_SCENE15 = PROJECT.parent / "shared" / "data" / "scene15"


def copy_checkout(destination: Path, names: tuple[str, ...]) -> None:
    """Copy the committed files under ``names`` (top-level files or folders) to ``destination``.

    Only what git tracks: a clean clone (as CI's) has no outputs, so a test must not depend on them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *names], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for relative in filter(None, listed):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / relative, target, follow_symlinks=False)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m bagnet_repro`` the way the rules do (from the project folder unless ``cwd`` says)."""
    env = dict(os.environ, PYTHONPATH=str(PROJECT / "src"))
    return subprocess.run(
        [sys.executable, "-m", "bagnet_repro", *args], cwd=cwd or PROJECT, env=env, capture_output=True, text=True
    )


def train_command(manifest: Path, out: Path, options: dict, model: str = "bagnet9") -> list[str]:
    """The arguments of ``bagnet-repro train``: one model on ``manifest`` with ``options``, into ``out`` (CPU,
    one thread)."""
    return [
        *("train", "--manifest", str(manifest), "--model", model, "--recipe", "report"),
        *("--best", str(out / "best.pt"), "--history", str(out / "history.csv"), "--checkpoint", str(out / "last.pt")),
        *("--options", json.dumps(options), "--seed", "0", "--device", "cpu", "--threads", "1"),
    ]


def evaluate_command(checkpoint: Path, manifest: Path, out: Path) -> list[str]:
    """The arguments of ``bagnet-repro evaluate``: ``checkpoint`` on ``manifest``, scrambled 4 x 4 and swept
    over 1 x 1 and 2 x 2, into ``out`` (CPU, one thread)."""
    return [
        *("evaluate", "--checkpoint", str(checkpoint), "--manifest", str(manifest)),
        *("--predictions", str(out / "predictions.tsv"), "--metrics", str(out / "metrics.json")),
        *("--scramble-grid", "4", "--sweep-grids", "1", "2", "--scramble-seed", "0", "--batch-size", "8"),
        *("--device", "cpu", "--threads", "1"),
    ]


def run_snakemake(
    workdir: Path, *args: str, timeout: int = 1500, env: dict | None = None, path_first: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the project's workflow with ``workdir`` as working directory (results land there).

    ``env`` replaces the environment; ``path_first`` goes before everything on PATH."""
    env = dict(os.environ if env is None else env)
    search = [str(path_first)] if path_first else []
    env["PATH"] = os.pathsep.join(search + [str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(PROJECT / "Snakefile"), "--directory", str(workdir), *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class FileServer:
    """Serves ``files`` (name -> bytes) on 127.0.0.1; ``mode[name]`` may be 'truncate' or 'flaky'."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.mode: dict[str, str] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                range_header = self.headers.get("Range")
                server.requests.append((name, range_header))
                if name not in server.files:
                    self.send_error(404)
                    return
                data = server.files[name]
                start = 0
                if range_header and server.mode.get(name) != "no-range":
                    start = int(range_header.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                mode = server.mode.get(name)
                first = sum(1 for n, _ in server.requests if n == name) == 1
                if mode == "truncate" or (mode == "flaky" and first):
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def randomize_batchnorm(model):
    """Non-trivial BN statistics and affine parameters, so eval-mode comparisons test more than identity BN."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return model
