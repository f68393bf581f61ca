"""The set-up commands explain themselves: ``scripts/test.sh --help`` is the suite's own help, not pytest's."""

import subprocess

import pytest

from helpers import PROJECT


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_the_test_command_says_what_it_runs_and_how_long_without_running_pytest(flag):
    result = subprocess.run(["bash", str(PROJECT / "scripts" / "test.sh"), flag], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: bash scripts/test.sh")
    assert "minutes" in result.stdout and "bash scripts/test.sh -m slow" in result.stdout
    assert "--rootdir" not in result.stdout  # pytest's own help was not printed
