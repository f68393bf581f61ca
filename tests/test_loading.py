"""The one image loader of training and ``explain``: high-bit-depth images are scaled to 8 bits, not clipped."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from bagnet_repro.data.loading import load_image
from bagnet_repro.errors import UserError

MID_GREY_16 = 0x8080  # 32896: mid-grey on the 16-bit scale, 128 on the 8-bit one (high byte)


def png_16_bit_rgb(path, width, height, value):
    """A 16-bit-per-channel RGB PNG written by hand (Pillow cannot write one)."""
    row = b"\x00" + struct.pack(">" + "H" * 3 * width, *([value] * 3 * width))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("kind", ["grey PNG (I;16)", "grey TIFF (I;16)", "grey PGM (I)", "RGB PNG"])
def test_a_mid_grey_16_bit_image_loads_mid_grey(tmp_path, kind):
    grey = np.full((6, 8), MID_GREY_16, dtype=np.uint16)
    if kind.startswith("grey PNG"):
        Image.fromarray(grey).save(path := tmp_path / "grey.png")
    elif kind.startswith("grey TIFF"):
        Image.fromarray(grey).save(path := tmp_path / "grey.tif")
    elif kind.startswith("grey PGM"):
        Image.fromarray(grey.astype(np.int32)).save(path := tmp_path / "grey.pgm")
    else:
        path = png_16_bit_rgb(tmp_path / "rgb.png", 8, 6, MID_GREY_16)
    loaded = load_image(str(path), None)
    assert loaded.shape == (3, 6, 8)
    assert loaded.unique().tolist() == [128], kind


def test_16_bit_extremes_and_a_gradient_keep_their_order(tmp_path):
    ramp = np.linspace(0, 65535, 256).astype(np.uint16)[None].repeat(2, axis=0)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    loaded = load_image(str(tmp_path / "ramp.png"), None)[0, 0].numpy().astype(int)
    assert loaded[0] == 0 and loaded[-1] == 255 and (np.diff(loaded) >= 0).all()
    assert np.array_equal(loaded, ramp[0].astype(int) >> 8)


@pytest.mark.parametrize("values,expected", [(0.5, 128), (127.0, 127)])
def test_float_images_are_read_on_their_scale(tmp_path, values, expected):
    Image.fromarray(np.full((4, 4), values, dtype=np.float32)).save(tmp_path / "float.tif")
    assert load_image(str(tmp_path / "float.tif"), None).unique().tolist() == [expected]


def test_8_bit_images_load_unchanged(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert np.array_equal(load_image(str(tmp_path / "rgb.png"), None).permute(1, 2, 0).numpy(), rgb)


def test_an_image_past_pillows_bomb_limit_is_one_line(tmp_path, monkeypatch):
    Image.new("RGB", (40, 40)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 1600 px is then past twice the limit
    with pytest.raises(UserError, match="cannot read image .*big.png: Image size"):
        load_image(str(tmp_path / "big.png"), None)
