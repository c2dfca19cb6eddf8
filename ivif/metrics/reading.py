"""Reading image files as gray 0..255 float64 arrays, the way each convention does.

Files are decoded under the one image policy (:func:`ivif.io.images.read_image`: pixel
limit from the header, EXIF orientation applied, 16-bit stretched), the same pixels
``ivif fuse`` reads; then each convention turns colour into gray with its reference
evaluator's arithmetic:

``opencv`` (CDDFuse): ``cv2.imread`` as BGR float32, ``cvtColor`` BGR→GRAY, rounded.
``matlab`` (Tang's toolbox): ``imread`` then ``rgb2gray`` (MATLAB's luma weights,
rounded to uint8) for colour files, gray files as they are.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ivif.io.images import read_image

# MATLAB rgb2gray weights (the exact inverse-YIQ row MATLAB uses), R, G, B.
MATLAB_LUMA = (0.298936021293775, 0.587043074451121, 0.114020904255103)
UINT8_MAX = 255  # rgb2gray returns uint8: rounded luma saturates here
READERS = ("opencv", "matlab")
BAND_PIXELS = 1 << 20  # colour is converted in row bands: small temporaries for huge images


def _gray_opencv(rgb: np.ndarray) -> np.ndarray:
    bgr = np.ascontiguousarray(rgb[..., ::-1], dtype=np.float32)
    return np.round(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)).astype(np.float64)


def _gray_matlab(rgb: np.ndarray) -> np.ndarray:
    red, green, blue = (rgb[..., i].astype(np.float64) for i in range(3))
    r, g, b = MATLAB_LUMA
    return np.clip(np.round(r * red + g * green + b * blue), 0, UINT8_MAX)


def gray_for_reader(image: np.ndarray, reader: str) -> np.ndarray:
    """(H, W) or (H, W, 3) RGB uint8 -> (H, W) float64 gray as ``reader``'s evaluator computes it."""
    convert = {"opencv": _gray_opencv, "matlab": _gray_matlab}.get(reader)
    if convert is None:
        raise ValueError(f"unknown image reader {reader!r}; choose one of {list(READERS)}")
    if image.ndim == 2:
        return image.astype(np.float64)
    out = np.empty(image.shape[:2], dtype=np.float64)
    rows = max(BAND_PIXELS // max(image.shape[1], 1), 1)
    for top in range(0, image.shape[0], rows):
        out[top : top + rows] = convert(image[top : top + rows])
    return out


def read_gray_opencv(path: str | Path) -> np.ndarray:
    """(H, W) float64: OpenCV BGR → gray, rounded (CDDFuse's ``image_read_cv2(..., 'GRAY')``)."""
    return gray_for_reader(read_image(path).pixels, "opencv")


def read_gray_matlab(path: str | Path) -> np.ndarray:
    """(H, W) float64: MATLAB ``rgb2gray`` of colour files (rounded), gray files unchanged."""
    return gray_for_reader(read_image(path).pixels, "matlab")


def read_gray(path: str | Path, reader: str) -> np.ndarray:
    """Read ``path`` with the named reader (a convention's ``reader``). Returns (H, W) float64."""
    if reader not in READERS:
        raise ValueError(f"unknown image reader {reader!r}; choose one of {list(READERS)}")
    return gray_for_reader(read_image(path).pixels, reader)
