"""BagNets-v2 compatibility: their released state dicts load strictly and compute the same function, and
``get_augmentations`` gives their preprocessing presets."""

import pytest
import torch
from PIL import Image
from torch import nn
from torchvision.transforms import v2

from bagnet_repro.errors import UserError
from bagnet_repro.models import build_model, get_augmentations, get_bagnet
from helpers import randomize_batchnorm


class _TheirBottleneck(nn.Module):
    """A BagNets-v2 bottleneck written from their description: padded middle conv, no shortcut crop."""

    def __init__(self, inplanes, planes, stride=1, kernel_size=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size, stride=stride, padding=(kernel_size - 1) // 2, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class _TheirBagNet(nn.Module):
    """BagNets-v2's key layout: one 3x3 stem conv named conv1, bn1, layer1-4, fc."""

    def __init__(self, kernel3, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        inplanes = 64
        for index, (planes, blocks, stride, k3) in enumerate(
            zip((64, 128, 256, 512), (3, 4, 6, 3), (2, 2, 2, 1), kernel3, strict=True), start=1
        ):
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), nn.BatchNorm2d(planes * 4)
            )
            layers = [_TheirBottleneck(inplanes, planes, stride, 3 if k3 else 1, downsample)]
            inplanes = planes * 4
            layers += [_TheirBottleneck(inplanes, planes) for _ in range(1, blocks)]
            setattr(self, f"layer{index}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@pytest.mark.parametrize("name,kernel3", [("bagnet33_v2", (1, 1, 1, 1)), ("bagnet9_v2", (1, 1, 0, 0))])
def test_their_released_state_dict_loads_strictly_and_gives_the_same_outputs(tmp_path, name, kernel3):
    torch.manual_seed(0)
    theirs = randomize_batchnorm(_TheirBagNet(kernel3)).eval()
    path = tmp_path / f"{name.split('_')[0]}_imagenet_pretrained.pt"
    torch.save(theirs.state_dict(), path)  # their files are plain state dicts
    ours = get_bagnet(name, weights=str(path), num_classes=1000).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))
    # As the config's weights.models.<name>: /path/to/file.pt does it: loaded at 1000 classes, head replaced.
    fine = build_model(name, 15, weights=str(path), head="linear")
    assert fine.fc.out_features == 15 and torch.equal(fine.conv1.weight, theirs.conv1.weight)


def test_a_v2_checkpoint_of_the_earlier_layout_still_loads():
    torch.manual_seed(0)
    model = get_bagnet("bagnet9_v2", num_classes=5)
    earlier = {("conv2.weight" if key == "conv1.weight" else key): value for key, value in model.state_dict().items()}
    fresh = get_bagnet("bagnet9_v2", num_classes=5)
    fresh.load_state_dict(earlier)
    assert torch.equal(fresh.conv1.weight, model.conv1.weight)


def _types(pipeline):
    return [type(t).__name__ for t in pipeline.transforms]


def test_imagenet_preset_matches_bagnets_v2():
    train, test = get_augmentations(224)
    assert _types(train) == ["ToImage", "RandomResizedCrop", "RandomHorizontalFlip", "ToDtype", "Normalize"]
    assert _types(test) == ["ToImage", "Resize", "CenterCrop", "ToDtype", "Normalize"]
    assert train.transforms[1].size == (224, 224) and test.transforms[1].size == [256]
    assert test.transforms[2].size == (224, 224)
    assert train.transforms[-1].mean == [0.485, 0.456, 0.406] and train.transforms[-1].std == [0.229, 0.224, 0.225]
    image = Image.new("RGB", (320, 240), (120, 60, 30))
    out = test(image)
    assert out.shape == (3, 224, 224) and out.dtype == torch.float32
    assert out[0, 0, 0].item() == pytest.approx((120 / 255 - 0.485) / 0.229, abs=1e-5)


def test_fundus_preset_and_uint8_pipelines():
    train, test = get_augmentations(128, preset="fundus")
    assert _types(train) == [
        "ToImage",
        "Resize",
        "RandomRotation",
        "RandomHorizontalFlip",
        "RandomApply",
        "ToDtype",
        "Normalize",
    ]
    assert train.transforms[2].degrees == [-15.0, 15.0]
    jitter = train.transforms[4]
    assert jitter.p == 0.5 and isinstance(jitter.transforms[0], v2.ColorJitter)
    assert jitter.transforms[0].brightness == (0.8, 1.2) and jitter.transforms[0].contrast == (0.8, 1.2)
    assert _types(test) == ["ToImage", "Resize", "ToDtype", "Normalize"]
    # Without normalization the pipelines keep uint8 tensors: what the training loop and pretraining use.
    raw_train, raw_test = get_augmentations(32, normalization=None)
    image = torch.randint(0, 256, (3, 50, 40), dtype=torch.uint8)
    assert raw_train(image).dtype == torch.uint8 and raw_train(image).shape == (3, 32, 32)
    assert raw_test(image).shape == (3, 32, 32)
    with pytest.raises(UserError, match="unknown augmentation preset 'retina'"):
        get_augmentations(32, preset="retina")
