"""BagNets are bags of local features: each logit depends on exactly one 9/17/33 px patch, at stride 8."""

import pytest
import torch

from bagnet_repro.models import build_model
from bagnet_repro.receptive.fields import measure_receptive_field

SIZES = {"bagnet9": 9, "bagnet17": 17, "bagnet33": 33}


@pytest.mark.parametrize("name", list(SIZES))
def test_gradient_support_is_the_patch(name):
    model = build_model(name, 4, head="linear").double().eval()
    field = measure_receptive_field(model.features, input_size=72)
    assert field.size == (SIZES[name], SIZES[name])
    assert field.stride == (8, 8)


@pytest.mark.parametrize("name", list(SIZES))
def test_logit_at_map_position_equals_isolated_patch(name):
    torch.manual_seed(0)
    model = build_model(name, 6, head="linear").double().eval()
    patch = SIZES[name]
    image = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        logit_map = model.logit_map(image)
        for i, j in [(0, 0), (1, 2), (logit_map.shape[2] - 1, logit_map.shape[3] - 1)]:
            crop = image[:, :, 8 * i : 8 * i + patch, 8 * j : 8 * j + patch]
            torch.testing.assert_close(model(crop)[0], logit_map[0, :, i, j], rtol=1e-9, atol=1e-9)
