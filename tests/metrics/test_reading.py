import cv2
import numpy as np
import pytest
from PIL import Image

from ivif.io.images import ImageError, ImageTooLarge
from ivif.metrics.reading import read_gray


def test_opencv_reader_rounds_bgr_to_gray(tmp_path):
    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 10, 200, 90  # B, G, R
    cv2.imwrite(str(tmp_path / "c.png"), bgr)
    gray = read_gray(tmp_path / "c.png", "opencv")
    expected = np.round(0.299 * 90 + 0.587 * 200 + 0.114 * 10)
    assert gray.dtype == np.float64 and gray.shape == (4, 5)
    assert np.all(np.abs(gray - expected) <= 1) and np.all(gray == np.round(gray))


def test_matlab_reader_uses_rgb2gray_weights_and_keeps_gray(tmp_path):
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 2] = 255  # pure red
    cv2.imwrite(str(tmp_path / "red.png"), bgr)
    assert np.all(read_gray(tmp_path / "red.png", "matlab") == 76)  # round(0.298936 * 255)
    cv2.imwrite(str(tmp_path / "g.png"), np.full((2, 2), 37, np.uint8))
    assert np.all(read_gray(tmp_path / "g.png", "matlab") == 37)


@pytest.mark.parametrize("reader", ["opencv", "matlab"])
def test_missing_and_unreadable_files_are_named(tmp_path, reader):
    with pytest.raises(FileNotFoundError, match="gone.png"):
        read_gray(tmp_path / "gone.png", reader)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ImageError, match="bad.png: not a readable image"):
        read_gray(tmp_path / "bad.png", reader)


def test_unknown_reader():
    with pytest.raises(ValueError, match="unknown image reader"):
        read_gray("x.png", "pil")


def test_opencv_reader_is_bit_exact_with_cddfuse_arithmetic(tmp_path):
    rgb = np.random.default_rng(3).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    reference = np.round(cv2.cvtColor(cv2.imread(str(tmp_path / "c.png")).astype(np.float32), cv2.COLOR_BGR2GRAY))
    assert np.array_equal(read_gray(tmp_path / "c.png", "opencv"), reference)


@pytest.mark.parametrize("reader", ["opencv", "matlab"])
def test_pixel_limit_is_checked_from_the_header(tmp_path, monkeypatch, reader):
    Image.new("L", (300, 200)).save(tmp_path / "big.png")
    monkeypatch.setenv("IVIF_MAX_PIXELS", "50000")
    with pytest.raises(ImageTooLarge, match=r"big.png: 300x200 is 0.1 megapixels, over the limit .*IVIF_MAX_PIXELS"):
        read_gray(tmp_path / "big.png", reader)
