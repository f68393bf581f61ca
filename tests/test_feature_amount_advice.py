"""The feature-amount run's out-of-memory line advises only options that command has."""

from __future__ import annotations

import re

import pytest
import torch

from bagnet_repro.cli import declared_stages
from bagnet_repro.cli.feature_amounts import out_of_memory_line
from bagnet_repro.cli.stages import option_rows


def _options_of(command: str) -> set[str]:
    return {option for option, *_ in option_rows(declared_stages()[command])}


def test_the_out_of_memory_advice_names_options_the_command_has():
    with pytest.raises(RuntimeError) as caught:
        torch.empty(2**45, dtype=torch.uint8)  # 32 TiB: the CPU allocator's own refusal
    line = out_of_memory_line(caught.value)
    assert line.startswith("out of memory (") and "DefaultCPUAllocator" in line
    named = set(re.findall(r"--[a-z][a-z-]*", line))
    assert named == {"--options", "--device"} and named <= _options_of("feature-amount-run"), line
