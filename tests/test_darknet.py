"""Darknet and CSPDarknet against the original vision-backbones code's layout (Thien Tran's vision-toolbox).

The original is not in this repository: its structure is written out here from its facts. Every unit is a
bias-free conv, BatchNorm and an activation (ReLU there); a Darknet stage is a stride-2 3x3 conv and residual
blocks (1x1 to half the width, 3x3 back); a CSP stage is the stride-2 conv, then, only when it has blocks, two
1x1 convs to half the width (the first is the shortcut half, the second runs through the blocks at full half
width), concatenation (shortcut first) and a 1x1 fusion. Weights drawn in that order are loaded into our
networks key by key and both are run in float64.
"""

import pytest
import torch
from torch.nn import functional as F

from bagnet_repro.complexity.counting import count_parameters
from bagnet_repro.errors import UserError
from bagnet_repro.models import build_backbone

BLOCKS = {
    "darknet19": (0, 1, 1, 2, 2),
    "darknet53": (1, 2, 8, 8, 4),
    "cspdarknet19": (0, 1, 1, 2, 2),
    "cspdarknet53": (1, 2, 8, 8, 4),
}
WIDTHS = (64, 128, 256, 512, 1024)
STEM = 32
# Counted by hand from the layout below with the corrected widths (vision-toolbox's 40.64 M / 26.28 M are the
# original code's typo widths, 258 in its Darknet-53 config and 612 in its Darknet-19 one; docs/fidelity.md).
PARAMETERS = {"darknet19": 19_817_376, "darknet53": 40_584_928, "cspdarknet19": 15_848_480, "cspdarknet53": 26_244_256}


def original_units(name):
    """(in, out, kernel, stride) of every Conv-BN-act unit, in the original's module order."""
    csp = name.startswith("csp")
    units = [(3, STEM, 3, 1)]
    width = STEM
    for blocks, out in zip(BLOCKS[name], WIDTHS, strict=True):
        units.append((width, out, 3, 2))
        half = out // 2
        if csp and blocks:
            units += [(out, half, 1, 1), (out, half, 1, 1)]
            units += [(half, half, 1, 1), (half, half, 3, 1)] * blocks
            units.append((out, out, 1, 1))
        elif not csp:
            units += [(out, half, 1, 1), (half, out, 3, 1)] * blocks
        width = out
    return units


def unit_count(units):
    return sum(o * i * k * k + 2 * o for i, o, k, _ in units)


def draw_weights(units, generator):
    """Conv weight and BatchNorm (weight, bias, running mean, running variance) for each unit, float64."""
    drawn = []
    for fan_in, fan_out, kernel, _ in units:
        scale = (2.0 / (fan_in * kernel * kernel)) ** 0.5
        drawn.append(
            [
                torch.randn(fan_out, fan_in, kernel, kernel, generator=generator, dtype=torch.float64) * scale,
                1 + 0.1 * torch.randn(fan_out, generator=generator, dtype=torch.float64),
                0.1 * torch.randn(fan_out, generator=generator, dtype=torch.float64),
                0.1 * torch.randn(fan_out, generator=generator, dtype=torch.float64),
                0.5 + torch.rand(fan_out, generator=generator, dtype=torch.float64),
            ]
        )
    return drawn


def reference_forward(name, units, weights, x, slope):
    """The original's forward pass, unit by unit in its order; returns the five stage maps."""
    csp = name.startswith("csp")
    queue = list(zip(units, weights, strict=True))

    def unit(inputs):
        (_, _, kernel, stride), (conv, gamma, beta, mean, var) = queue.pop(0)
        out = F.conv2d(inputs, conv, stride=stride, padding=(kernel - 1) // 2)
        out = F.batch_norm(out, mean, var, gamma, beta, training=False, eps=1e-5)
        return F.leaky_relu(out, slope) if slope else F.relu(out)

    maps = []
    x = unit(x)
    for blocks in BLOCKS[name]:
        x = unit(x)
        if csp and blocks:
            shortcut, main = unit(x), unit(x)
            for _ in range(blocks):
                main = main + unit(unit(main))
            x = unit(torch.cat([shortcut, main], dim=1))
        elif not csp:
            for _ in range(blocks):
                x = x + unit(unit(x))
        maps.append(x)
    assert not queue, "every unit of the layout is used once"
    return maps


def load_in_original_order(model, weights):
    """Our state dict filled, in its own key order, with the original's tensors in theirs."""
    keys = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    values = [tensor for unit in weights for tensor in unit]
    assert len(keys) == len(values), f"{len(keys)} tensors here, {len(values)} in the original's layout"
    state = model.state_dict()
    for key, value in zip(keys, values, strict=True):
        assert state[key].shape == value.shape, key
        state[key] = value
    model.load_state_dict(state)


@pytest.mark.parametrize("name", list(BLOCKS))
def test_parameter_counts_are_the_original_layout_s(name):
    with torch.device("meta"):
        backbone = build_backbone(name)
    assert unit_count(original_units(name)) == PARAMETERS[name]
    assert count_parameters(backbone) == PARAMETERS[name]


@pytest.mark.parametrize(
    "name,activation,slope",
    [
        ("darknet19", None, 0.0),
        ("cspdarknet19", None, 0.0),
        ("darknet53", None, 0.0),
        ("cspdarknet53", None, 0.0),
        ("darknet19", "leaky_relu", 0.1),
        ("cspdarknet19", "leaky_relu", 0.1),
    ],
)
def test_outputs_equal_the_original_s_with_its_weights(name, activation, slope):
    options = {"activation": activation} if activation else {}
    model = build_backbone(name, **options).double().eval()
    units = original_units(name)
    weights = draw_weights(units, torch.Generator().manual_seed(3))
    load_in_original_order(model, weights)
    x = torch.randn(2, 3, 64, 48, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    with torch.no_grad():
        ours = model(x)
        theirs = reference_forward(name, units, weights, x, slope)
    for stage, (a, b) in enumerate(zip(ours, theirs, strict=True), 1):
        assert a.shape == b.shape, stage
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10, msg=f"{name} stage {stage}")


def test_relu_by_default_and_leaky_relu_on_request():
    default = build_backbone("cspdarknet53")
    leaky = build_backbone("cspdarknet53", activation="leaky_relu")
    kinds = {type(m).__name__ for m in default.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.LeakyReLU))}
    assert kinds == {"ReLU"}
    slopes = {m.negative_slope for m in leaky.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.1} and not any(isinstance(m, torch.nn.ReLU) for m in leaky.modules())


def test_an_unknown_activation_is_one_line():
    with pytest.raises(UserError, match="unknown Darknet activation 'gelu'; choose one of: relu, leaky_relu"):
        build_backbone("darknet19", activation="gelu")


@pytest.mark.parametrize("name,stage,typo", [("darknet53", 2, 258), ("cspdarknet53", 2, 258)])
def test_the_seed_s_published_counts_are_its_code_s_typo_widths(monkeypatch, name, stage, typo):
    """The table's note: vision-toolbox's 40.64 M / 26.28 M are what the original's 258-channel typo gives."""
    from bagnet_repro.complexity.backbone_table import NOTES, SEED_VALUES
    from bagnet_repro.models import darknet

    widths = list(darknet.STAGE_WIDTHS)
    widths[stage] = typo
    monkeypatch.setattr(darknet, "STAGE_WIDTHS", tuple(widths))
    with torch.device("meta"):
        backbone = build_backbone(name)
    assert round(count_parameters(backbone) / 1e6, 2) == SEED_VALUES[name][0]
    assert any(str(typo) in note for note in NOTES)
