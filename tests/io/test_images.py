"""The one image policy (ivif.io.images): limit, orientation, 16-bit, luma, names, errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from ivif_testkit import flat_png
from PIL import Image, ImageOps

from ivif.data.cache import ImageCache, write_cache
from ivif.data.images import decode_png, encode_png, read_ir, read_vi
from ivif.fusion.io import read_pair
from ivif.io.images import (
    DEFAULT_MAX_PIXELS,
    ImageError,
    ImageTooLarge,
    image_size,
    images_by_stem,
    luma,
    max_pixels,
    percentile_levels,
    read_image,
    stretch_to_uint8,
)
from ivif.metrics.reading import read_gray
from ivif.pairing.patches import gray_plane

RNG = np.random.default_rng(11)


def _png(image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def test_luma_is_pils_convert_l_bit_for_bit():
    rgb = RNG.integers(0, 256, (300, 700, 3), dtype=np.uint8)
    corners = np.array(
        [[[r, g, b] for r in (0, 1, 127, 128, 254, 255) for g in (0, 128, 255) for b in (0, 3, 255)]],
        dtype=np.uint8,
    )
    for image in (rgb, corners):
        assert np.array_equal(luma(image), np.asarray(Image.fromarray(image, "RGB").convert("L")))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_exif_transpose(orientation):
    pixels = RNG.integers(0, 256, (12, 20, 3), dtype=np.uint8)  # non-square, so a wrong turn shows
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    data = _png(image, exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    decoded = read_image(data)
    assert np.array_equal(decoded.pixels, expected)
    assert ("exif-orientation" in decoded.conversion) == (orientation != 1)


def test_16_bit_stretch_is_the_declared_percentile_rule(tmp_path):
    deep = RNG.normal(30000, 2000, (64, 80)).clip(0, 65535).astype(np.uint16)
    deep[0, :5] = [0, 1, 65535, 65534, 2]  # outliers the 0.5-99.5 % stretch ignores
    low, high = np.percentile(deep, [0.5, 99.5], method="inverted_cdf")
    assert percentile_levels(deep) == (low, high)
    expected = np.round((np.clip(deep.astype(np.float64), low, high) - low) * 255 / (high - low)).astype(np.uint8)
    assert np.array_equal(stretch_to_uint8(deep), expected)
    assert np.array_equal(stretch_to_uint8(deep.astype(np.int32)), expected)  # mode I: same rule without the histogram
    Image.fromarray(deep).save(tmp_path / "ir16.png")
    Image.fromarray(deep).save(tmp_path / "ir16.tif")
    for path in (tmp_path / "ir16.png", tmp_path / "ir16.tif"):
        decoded = read_image(path)
        assert decoded.conversion == "stretch-16bit" and np.array_equal(decoded.pixels, expected)
        # every reader applies the same rule
        assert np.array_equal(read_ir(path).pixels, expected)
        assert np.array_equal(read_gray(path, "opencv"), expected.astype(np.float64))
        assert np.array_equal(read_pair(path, path).ir, expected)
    assert not stretch_to_uint8(np.full((3, 3), 500, np.uint16)).any()  # constant: 0


def test_pixel_limit_default_env_and_argument(monkeypatch):
    monkeypatch.delenv("IVIF_MAX_PIXELS", raising=False)
    assert max_pixels() == DEFAULT_MAX_PIXELS and 12000 * 12000 <= DEFAULT_MAX_PIXELS < 30000 * 30000
    monkeypatch.setenv("IVIF_MAX_PIXELS", "1_000")
    assert max_pixels() == 1000 and max_pixels(5) == 5
    monkeypatch.setenv("IVIF_MAX_PIXELS", "lots")
    with pytest.raises(ImageError, match="IVIF_MAX_PIXELS='lots'"):
        max_pixels()


def test_a_30000_squared_png_is_refused_from_its_header_everywhere(tmp_path, monkeypatch):
    monkeypatch.delenv("IVIF_MAX_PIXELS", raising=False)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(flat_png(30000, 30000))  # ~4 MB on disk, 900 megapixels decoded
    assert image_size(bomb) == (30000, 30000)
    message = r"bomb.png: 30000x30000 is 900.0 megapixels, over the limit of 150.0 megapixels .*IVIF_MAX_PIXELS=<pixels>"
    for reader in (
        read_image,
        read_ir,
        read_vi,
        lambda p: read_gray(p, "opencv"),
        lambda p: read_gray(p, "matlab"),
        lambda p: read_pair(p, p),
    ):
        with pytest.raises(ImageTooLarge, match=message):
            reader(bomb)
    with pytest.raises(ImageTooLarge):
        decode_png(bomb.read_bytes(), "shard x.tar/bomb")


def test_the_default_admits_12000_squared(tmp_path, monkeypatch):
    monkeypatch.delenv("IVIF_MAX_PIXELS", raising=False)
    path = tmp_path / "big.png"
    path.write_bytes(flat_png(12000, 12000, value=9))
    pixels = read_image(path).pixels
    assert pixels.shape == (12000, 12000) and pixels[0, 0] == 9 and pixels[-1, -1] == 9


def test_images_by_stem_skips_hidden_and_temporary_names(tmp_path):
    for name in (
        "b.png",
        "a.jpg",
        ".a.png.k2j3.png",
        "c.png.tmp",
        ".hidden.png",
        "notes.txt",
        "d.PNG",
    ):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    by_stem, duplicates = images_by_stem(tmp_path)
    assert sorted(by_stem) == ["a", "b", "d"] and duplicates == []
    (tmp_path / "a.png").write_bytes(b"")
    _, duplicates = images_by_stem(tmp_path)
    assert [(kept.name, other.name) for kept, other in duplicates] == [("a.jpg", "a.png")]


def test_corrupt_and_unsupported_files_name_the_file_and_the_fix(tmp_path):
    good = _png(Image.fromarray(RNG.integers(0, 256, (64, 64), dtype=np.uint8)))
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.png").write_bytes(b"hello")
    Image.new("CMYK", (4, 4)).save(tmp_path / "print.tif")
    with pytest.raises(
        ImageError,
        match=r"cut.png: unreadable or truncated image .*re-download or re-export",
    ):
        read_image(tmp_path / "cut.png")
    with pytest.raises(ImageError, match="junk.png: not a readable image"):
        read_image(tmp_path / "junk.png")
    with pytest.raises(ImageError, match="print.tif: unsupported colour mode CMYK; convert it"):
        read_image(tmp_path / "print.tif")
    with pytest.raises(FileNotFoundError, match="gone.png"):
        read_image(tmp_path / "gone.png")


def test_training_luma_equals_fusion_luma_bit_for_bit(tmp_path):
    """One RGB file: what the cache stores and training turns into luma == what fusion reads."""
    rgb = RNG.integers(0, 256, (37, 45, 3), dtype=np.uint8)
    ir = RNG.integers(0, 256, (37, 45), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "vi.png")
    Image.fromarray(ir).save(tmp_path / "ir.png")
    stored = decode_png(encode_png(read_vi(tmp_path / "vi.png").pixels))  # what a shard carries
    write_cache(tmp_path / "cache", [("x", read_ir(tmp_path / "ir.png").pixels, stored)])
    training = gray_plane(ImageCache(tmp_path / "cache").vi(0))
    fusion = read_pair(tmp_path / "ir.png", tmp_path / "vi.png").vi_luma
    assert training.dtype == np.float32 and np.array_equal(training, fusion.astype(np.float32))


def test_ingest_with_skip_bad_lists_a_decompression_bomb(tmp_path, monkeypatch):
    from ivif.data.ingest import IngestError, validate_folder

    monkeypatch.setenv("IVIF_MAX_PIXELS", "10000")  # the same check as for 30000 x 30000 at the default
    for modality in ("ir", "vi"):
        (tmp_path / modality).mkdir()
        Image.fromarray(RNG.integers(0, 256, (40, 50), dtype=np.uint8)).save(tmp_path / modality / "ok.png")
        (tmp_path / modality / "bomb.png").write_bytes(flat_png(200, 200))
    names, problems = validate_folder(tmp_path / "ir", tmp_path / "vi", skip_bad=True)
    assert names == ["ok"] and {p.path.name for p in problems} == {"bomb.png"}
    assert all("over the limit" in p.reason for p in problems)
    with pytest.raises(IngestError, match="bomb.png: 200x200 is 0.0 megapixels, over the limit"):
        validate_folder(tmp_path / "ir", tmp_path / "vi")
