"""Shared fixtures (the helpers they use live in helpers.py, which the tests import by name)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import PROJECT, FileServer, run_snakemake


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    from bagnet_repro.data.demo import make_demo_data

    root = tmp_path_factory.mktemp("demo") / "data"
    make_demo_data(root, train_per_class=10, test_per_class=6, width=40, height=32)
    return root


@pytest.fixture(scope="session")
def finished_demo(tmp_path_factory) -> Path:
    """The demo run to its end, once per session (the demo test and the run-archive round trip share it: the
    demo trains every model, minutes on 2 cores). BAGNET_FINISHED_DEMO may name a finished demo folder to reuse.
    The demo test checks it first and then changes one result and rebuilds, so the run stays finished."""
    if os.environ.get("BAGNET_FINISHED_DEMO"):
        return Path(os.environ["BAGNET_FINISHED_DEMO"])
    work = tmp_path_factory.mktemp("finished_demo")
    result = run_snakemake(work, "--cores", "2", "--configfile", str(PROJECT / "configs" / "demo.yaml"), timeout=3600)
    assert result.returncode == 0, result.stderr[-4000:]
    return work
