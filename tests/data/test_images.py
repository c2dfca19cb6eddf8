"""Reading source images into ivif's layout: modes, bit depths, formats."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ivif.data.images import ImageProblem, decode_png, encode_png, read_ir, read_vi
from ivif.io.images import ImageTooLarge, stretch_to_uint8

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, (12, 10), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8)


def _save(tmp_path, name, img: Image.Image, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return path


def test_gray_png_is_kept(tmp_path):
    path = _save(tmp_path, "a.png", Image.fromarray(GRAY, "L"))
    for reader in (read_ir, read_vi):
        img = reader(path)
        assert img.pixels.shape == (12, 10) and np.array_equal(img.pixels, GRAY)
        assert (img.source_mode, img.conversion, img.channels) == ("L", "none", 1)


def test_rgb_with_equal_channels_becomes_one_channel(tmp_path):
    path = _save(tmp_path, "a.bmp", Image.fromarray(np.stack([GRAY] * 3, -1), "RGB"))
    for reader in (read_ir, read_vi):
        img = reader(path)
        assert np.array_equal(img.pixels, GRAY)
        assert img.conversion == "equal-channels-to-gray"


def test_visible_keeps_colour_ir_becomes_luma(tmp_path):
    path = _save(tmp_path, "a.png", Image.fromarray(COLOUR, "RGB"))
    vi = read_vi(path)
    assert vi.pixels.shape == (12, 10, 3) and np.array_equal(vi.pixels, COLOUR)
    ir = read_ir(path)
    assert ir.conversion == "luma"
    expected = np.asarray(Image.fromarray(COLOUR, "RGB").convert("L"))
    assert np.array_equal(ir.pixels, expected)


def test_palette_is_expanded(tmp_path):
    img = Image.fromarray(COLOUR, "RGB").quantize(colors=16)
    path = _save(tmp_path, "p.png", img)
    vi = read_vi(path)
    assert vi.pixels.shape == (12, 10, 3)
    assert np.array_equal(vi.pixels, np.asarray(img.convert("RGB")))
    assert vi.conversion == "palette-to-rgb"


def test_opaque_alpha_is_dropped_transparent_is_rejected(tmp_path):
    opaque = np.dstack([COLOUR, np.full((12, 10), 255, np.uint8)])
    vi = read_vi(_save(tmp_path, "o.png", Image.fromarray(opaque, "RGBA")))
    assert np.array_equal(vi.pixels, COLOUR) and vi.conversion == "drop-opaque-alpha"
    see_through = opaque.copy()
    see_through[0, 0, 3] = 0
    with pytest.raises(ImageProblem, match="transparent"):
        read_vi(_save(tmp_path, "t.png", Image.fromarray(see_through, "RGBA")))
    la = np.dstack([GRAY, np.full((12, 10), 255, np.uint8)])
    assert np.array_equal(read_ir(_save(tmp_path, "la.png", Image.fromarray(la, "LA"))).pixels, GRAY)


def test_16_bit_is_stretched_by_the_declared_rule(tmp_path):
    deep = (GRAY.astype(np.uint16) * 257)
    path = _save(tmp_path, "deep.png", Image.fromarray(deep))
    ir = read_ir(path)
    assert ir.source_mode.startswith("I") and ir.conversion == "stretch-16bit"
    assert np.array_equal(ir.pixels, stretch_to_uint8(deep))
    assert ir.pixels.min() == 0 and ir.pixels.max() == 255  # the 0.5/99.5 % percentiles span 0..255


def test_over_the_pixel_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    path = _save(tmp_path, "big.png", Image.fromarray(GRAY, "L"))
    monkeypatch.setenv("IVIF_MAX_PIXELS", "100")
    with pytest.raises(ImageTooLarge, match=r"big.png: 10x12 .*IVIF_MAX_PIXELS"):
        read_ir(path)
    with pytest.raises(ImageTooLarge):
        decode_png(encode_png(GRAY), "shard x/01")


def test_truncated_and_garbage_files_are_reported(tmp_path):
    good = _save(tmp_path, "g.png", Image.fromarray(RNG.integers(0, 256, (64, 64), dtype=np.uint8), "L"))
    data = good.read_bytes()
    truncated = tmp_path / "t.png"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageProblem, match="truncated"):
        read_ir(truncated)
    garbage = tmp_path / "x.png"
    garbage.write_bytes(b"hello")
    with pytest.raises(ImageProblem, match="not a readable image"):
        read_vi(garbage)


def test_unsupported_format_is_rejected(tmp_path):
    path = _save(tmp_path, "a.gif", Image.fromarray(GRAY, "L"))
    with pytest.raises(ImageProblem, match="GIF files are not supported"):
        read_ir(path)


@pytest.mark.parametrize("pixels", [GRAY, COLOUR])
def test_png_round_trip_is_lossless_and_deterministic(pixels):
    data = encode_png(pixels)
    assert data == encode_png(pixels.copy())
    assert np.array_equal(decode_png(data), pixels)


def test_real_mixed_modes(shared):
    vifb = shared / "data" / "vifb21"
    ir = read_ir(vifb / "ir" / "carLight.jpg")  # RGB JPEG with equal channels
    assert ir.pixels.ndim == 2 and ir.source_mode == "RGB" and ir.conversion == "equal-channels-to-gray"
    vi = read_vi(vifb / "vi" / "carLight.jpg")
    assert vi.pixels.ndim == 3 and vi.channels == 3
    road = read_ir(shared / "data" / "roadscene221" / "ir" / "FLIR_00006.jpg")
    assert road.source_mode == "L" and road.conversion == "none"
