import cv2
import numpy as np
import pytest

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
    with pytest.raises(ValueError, match="cannot read image .*bad.png"):
        read_gray(tmp_path / "bad.png", reader)


def test_unknown_reader():
    with pytest.raises(ValueError, match="unknown image reader"):
        read_gray("x.png", "pil")
