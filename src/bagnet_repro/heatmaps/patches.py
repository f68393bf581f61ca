"""Stride-1 patch heatmaps: the logit of every class for the patch centred on every pixel.

The reference method (as in the report) zero-pads the normalized image by (patch - 1) // 2, crops every
patch at stride 1 and classifies the patches in batches. For the original BagNets every convolution is
unpadded, so a full-image pass already yields the logits of the patches at stride 8; turning each stride
into a dilation of the later convolutions (the "a trous" trick) yields them at stride 1 in one dense
pass, with the same numbers. The dense network is translation equivariant, so it can also run on row
bands of the image to bound memory. Padded networks (BagNets v2, the CNN baselines) see zeros at the
borders of a full image that an isolated patch would not, so no dense pass reproduces their patch logits;
for them only the upsampled logit map is offered, under its own name.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from tqdm.auto import tqdm

from ..errors import UserError
from ..models.bagnet import BagNet, Bottleneck
from .banded import coarse_logit_map

METHODS = ("fast", "reference", "upsampled")


def exact_patch_size(model: nn.Module) -> int | None:
    """The patch width whose logits a dense pass reproduces exactly, or None when no such width exists."""
    if isinstance(model, BagNet) and not model.config.padded:
        return model.config.receptive_field
    return None


def _pad(images: torch.Tensor, patch: int) -> torch.Tensor:
    """Zero padding so that the patch of output pixel (y, x) is centred on input pixel (y, x)."""
    before = (patch - 1) // 2
    after = patch - 1 - before
    return F.pad(images, (before, after, before, after))


@torch.no_grad()
def reference_patch_logits(
    model: nn.Module, images: torch.Tensor, patch: int, batch_size: int = 1000, progress: bool = True
) -> torch.Tensor:
    """The report's method: crop all H x W patches of the padded image and classify them in batches."""
    batch, _, height, width = images.shape
    padded = _pad(images, patch)
    out: torch.Tensor | None = None
    bar = tqdm(
        total=batch * height * width, desc="reference patches", unit="patch", disable=not progress, mininterval=1.0
    )
    for index in range(batch):
        # (3, H, W, p, p) view of every patch; copied batch by batch, never all at once.
        windows = padded[index].unfold(1, patch, 1).unfold(2, patch, 1).permute(1, 2, 0, 3, 4)
        windows = windows.reshape(height * width, 3, patch, patch)
        rows = []
        for start in range(0, height * width, batch_size):
            rows.append(model(windows[start : start + batch_size].contiguous()))
            bar.update(len(rows[-1]))
        logits = torch.cat(rows).reshape(height, width, -1).permute(2, 0, 1)
        if out is None:
            out = images.new_empty(batch, logits.shape[0], height, width)
        out[index] = logits
    bar.close()
    assert out is not None, "an empty batch has no class count to shape the logits (patch_logits refuses it)"
    return out


class DenseBagNet(nn.Module):
    """An eval-mode original BagNet rewritten to stride 1: strides become dilations, BN folded into convs.

    Its ``logit_map`` on an input of size S gives S - patch + 1 logits per axis: one per patch at stride 1.
    The head (linear or the report's MLP) is applied to each location, as it is to an isolated patch.
    """

    def __init__(self, model: BagNet) -> None:
        super().__init__()
        if exact_patch_size(model) is None:
            raise UserError("dense stride-1 logits are exact only for the original (unpadded) BagNets")
        model = copy.deepcopy(model).eval()
        assert model.conv2 is not None, "an unpadded BagNet's stem has its 3x3 conv2 after the 1x1"
        # Stem: the 1x1 and 3x3 convs are both linear, so fold them (and BN) into one 3x3 conv.
        stem = nn.Conv2d(3, 64, kernel_size=3, bias=False).to(model.conv2.weight).eval()
        stem.weight.data = torch.einsum("oikl,ic->ockl", model.conv2.weight, model.conv1.weight[:, :, 0, 0])
        self.stem = fuse_conv_bn_eval(stem, model.bn1)
        self.blocks = nn.ModuleList()
        dilation = 1
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
            for block in layer:
                assert isinstance(block, Bottleneck), "a BagNet's stages hold only its bottlenecks"
                stride = block.conv2.stride[0]
                dense = _DenseBottleneck(block, dilation)
                self.blocks.append(dense)
                dilation *= stride
        self.fc = model.fc

    def logit_map(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        if isinstance(self.fc, nn.Linear):
            return F.conv2d(x, self.fc.weight[:, :, None, None], self.fc.bias)  # fc at every location
        # A non-linear head (the report's MLP) classifies each location's features on their own.
        return self.fc(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class _DenseBottleneck(nn.Module):
    """A BagNet bottleneck at stride 1, its 3x3 dilated by the stride accumulated so far."""

    def __init__(self, block: Bottleneck, dilation: int) -> None:
        super().__init__()
        self.conv1 = fuse_conv_bn_eval(block.conv1, block.bn1)
        conv2 = fuse_conv_bn_eval(block.conv2, block.bn2)
        conv2.stride, conv2.dilation = (1, 1), (dilation, dilation)
        self.conv2 = conv2
        self.conv3 = fuse_conv_bn_eval(block.conv3, block.bn3)
        self.downsample: nn.Conv2d | None = None
        if block.downsample is not None:
            shortcut = block.downsample
            assert isinstance(shortcut, nn.Sequential), "BagNet._make_layer builds each shortcut as a Sequential"
            conv, bn = shortcut[0], shortcut[1]
            assert isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d), "that Sequential is conv, BN"
            downsample = fuse_conv_bn_eval(conv, bn)
            downsample.stride = (1, 1)
            self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.conv1(x))
        out = F.relu(self.conv2(out))
        out = self.conv3(out)
        height, width = out.shape[-2:]
        residual = x[..., :height, :width]  # crop first: the 1x1 downsample need not see the dropped border
        if self.downsample is not None:
            residual = self.downsample(residual)
        return F.relu(out + residual)


def band_bytes(width: int, patch: int, rows: int = 1) -> int:
    """The activations of one band of ``rows`` output rows of the exact method (about 8k float channels in
    flight at every input pixel of the band's rows and its receptive field's)."""
    return (rows + patch - 1) * (width + patch - 1) * 8192 * 4


def _rows_per_band(width: int, patch: int, budget_mb: float) -> int:
    """Output rows per band so that the widest activations (about 8k channels in flight) fit the budget;
    refused up front, with the budget it would need, when not even one row does."""
    bytes_per_row = band_bytes(width, patch) // patch
    rows = int(budget_mb * 2**20 // bytes_per_row) - (patch - 1)
    if rows < 1:
        needed = math.ceil(patch * bytes_per_row / 2**20)
        raise UserError(
            f"an image {width} px wide needs a memory budget of at least {needed} MB for one band of "
            f"the exact method (the budget is {budget_mb:g} MB): raise --memory-mb (heatmaps.memory_mb) "
            "or resize the image (--image-size)"
        )
    return rows


@torch.no_grad()
def dense_patch_logits(
    model: BagNet,
    images: torch.Tensor,
    memory_mb: float = 2048,
    progress: bool = True,
    classes: list[int] | None = None,
) -> torch.Tensor:
    """The fast exact method: one dilated pass per image and band of rows (``classes``: only those kept)."""
    patch = exact_patch_size(model)
    dense = DenseBagNet(model)
    assert patch is not None, "DenseBagNet has refused a model without an exact patch size"
    batch, _, height, width = images.shape
    padded = _pad(images, patch)
    rows = min(height, _rows_per_band(width, patch, memory_mb))
    bands = math.ceil(height / rows)
    out: torch.Tensor | None = None
    with tqdm(total=batch * bands, desc="dense bands", unit="band", disable=not progress, mininterval=1.0) as bar:
        for index in range(batch):
            for top in range(0, height, rows):
                bottom = min(height, top + rows)
                band = dense.logit_map(padded[index : index + 1, :, top : bottom + patch - 1])[0]
                band = band if classes is None else band[classes]
                if out is None:
                    out = images.new_empty(batch, band.shape[0], height, width)
                out[index, :, top:bottom] = band
                bar.update(1)
    assert out is not None, "an empty batch has no class count to shape the logits (patch_logits refuses it)"
    return out


@torch.no_grad()
def upsampled_logit_map(
    model: nn.Module, images: torch.Tensor, memory_mb: float = 2048, classes: list[int] | None = None
) -> torch.Tensor:
    """The model's coarse logit map resized (bilinear) to the image: an approximation, named as such.

    The coarse map is computed tile by tile within ``memory_mb`` (``banded.coarse_logit_map``), and only the
    ``classes`` asked for are resized, so a large image needs no whole-image activations."""
    if not isinstance(model, BagNet):
        raise UserError(f"{_describe(model)} has no per-location logit map to upsample (only BagNets have one)")
    chosen = list(range(class_count(model))) if classes is None else list(classes)
    maps = [coarse_logit_map(model, images[index : index + 1], chosen, memory_mb) for index in range(len(images))]
    return F.interpolate(torch.stack(maps), size=images.shape[-2:], mode="bilinear", align_corners=False)


def class_count(model: BagNet) -> int:
    """The classes ``model``'s head tells apart (a linear head, or the report's MLP)."""
    head = model.fc
    last = head[-1] if isinstance(head, nn.Sequential) else head  # the report's MLP ends in its Linear
    assert isinstance(last, nn.Linear), f"{_describe(model)}'s head ends in no Linear layer"
    return last.out_features


def patch_logits(
    model: nn.Module,
    images: torch.Tensor,
    method: str = "fast",
    batch_size: int = 1000,
    memory_mb: float = 2048,
    progress: bool = True,
    classes: list[int] | None = None,
) -> torch.Tensor:
    """Stride-1 patch logits of every class (or of ``classes``): B x classes x H x W for normalized images.

    ``fast`` (dense dilated pass) and ``reference`` (patch cropping) give the same numbers and exist
    only for the original BagNets; ``upsampled`` is the coarse logit map resized, for any BagNet (the
    only networks with a per-location logit map; meant for BagNets v2), and is not a patch heatmap.
    """
    if method not in METHODS:
        raise UserError(f"unknown heatmap method {method!r}; choose one of: {', '.join(METHODS)}")
    if images.dim() != 4 or images.shape[1] != 3 or not images.is_floating_point():
        raise UserError(f"images must be a float tensor B x 3 x H x W, got {tuple(images.shape)} {images.dtype}")
    if len(images) == 0:
        raise UserError("images is an empty batch (0 x 3 x H x W): patch logits need at least one image")
    if model.training:
        raise UserError("patch logits need the model in eval mode (batch norm must use its running statistics)")
    problem = method_problem(model, method)
    if problem:
        raise UserError(problem)
    if method == "upsampled":
        return upsampled_logit_map(model, images, memory_mb, classes)
    patch = exact_patch_size(model)
    assert patch is not None, "method_problem has refused a model without an exact patch size"
    if method == "reference":
        logits = reference_patch_logits(model, images, patch, batch_size, progress)
        return logits if classes is None else logits[:, classes]
    assert isinstance(model, BagNet), "an exact patch size exists only for BagNets"
    return dense_patch_logits(model, images, memory_mb, progress, classes)


def method_problem(model: nn.Module, method: str, name: str | None = None) -> str | None:
    """Why ``method`` cannot draw ``model``'s heatmaps (None when it can); the advice names only what works.
    ``name``: the model's name for the message (default: its BagNet config or class name)."""
    name = name or _describe(model)
    if method == "upsampled":
        if isinstance(model, BagNet):
            return None
        return (
            f"{name} has no per-location logit map, so no heatmap method applies to it "
            "(fast and reference need an original BagNet, upsampled any BagNet)"
        )
    if exact_patch_size(model) is not None:
        return None
    if isinstance(model, BagNet):
        return (
            f"exact stride-1 patch logits need an unpadded BagNet; {name} pads its "
            "convolutions, so use method='upsampled' (its coarse logit map, resized)"
        )
    return (
        f"exact stride-1 patch logits need an unpadded BagNet, and {name} is not a BagNet: no "
        "heatmap method applies to it (upsampled needs a BagNet's per-location logit map too)"
    )


def _describe(model: nn.Module) -> str:
    return model.config.name if isinstance(model, BagNet) else type(model).__name__
