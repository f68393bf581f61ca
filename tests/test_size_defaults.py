"""Defaults that follow the image size: lowering ``train.image_size`` alone keeps a valid config."""

import pytest

from bagnet_repro.config.checks import check_workflow_config, default_sweep_grids
from bagnet_repro.config.loading import load_yaml_file, merged
from bagnet_repro.errors import UserError
from helpers import PROJECT


def full_config(**changes) -> dict:
    return merged(load_yaml_file(PROJECT / "config.yaml"), changes)


def test_the_default_sweep_is_every_divisor_up_to_the_largest_grid():
    assert default_sweep_grids(224, 8) == [1, 2, 4, 7, 8]  # the report's grids at its size
    assert default_sweep_grids(48, 8) == [1, 2, 3, 4, 6, 8]
    assert default_sweep_grids(13, 8) == [1]


@pytest.mark.parametrize(
    ("size", "sweep"), [(224, [1, 2, 4, 7, 8]), (48, [1, 2, 3, 4, 6, 8]), (96, [1, 2, 3, 4, 6, 8])]
)
def test_image_size_alone_passes_the_config_check(size, sweep):
    config = check_workflow_config(full_config(train={"image_size": size}))
    assert config["evaluate"]["sweep_grids"] == sweep


def test_the_largest_grid_bounds_the_default_sweep():
    config = check_workflow_config(full_config(train={"image_size": 48}, evaluate={"sweep_max_grid": 4}))
    assert config["evaluate"]["sweep_grids"] == [1, 2, 3, 4]


def test_a_given_sweep_is_kept_and_still_checked():
    config = check_workflow_config(full_config(train={"image_size": 48}, evaluate={"sweep_grids": [1, 2]}))
    assert config["evaluate"]["sweep_grids"] == [1, 2]
    with pytest.raises(UserError, match="'evaluate.sweep_grids': grid 7 does not divide train.image_size 48"):
        check_workflow_config(full_config(train={"image_size": 48}, evaluate={"sweep_grids": [1, 7]}))
