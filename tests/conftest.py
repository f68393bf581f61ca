"""Shared fixtures (the helpers they use live in helpers.py, which the tests import by name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import FileServer


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
