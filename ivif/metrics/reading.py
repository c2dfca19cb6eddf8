"""Reading image files as gray 0..255 float64 arrays, the way each convention does.

``opencv`` (CDDFuse): ``cv2.imread`` as BGR float32, ``cvtColor`` BGR→GRAY, rounded.
``matlab`` (Tang's toolbox): ``imread`` then ``rgb2gray`` (MATLAB's luma weights,
rounded to uint8) for colour files, gray files as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

# MATLAB rgb2gray weights (the exact inverse-YIQ row MATLAB uses), R, G, B.
MATLAB_LUMA = (0.298936021293775, 0.587043074451121, 0.114020904255103)
UINT8_MAX = 255  # rgb2gray returns uint8: rounded luma saturates here


def _imread(path: Path, flags: int) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    image = cv2.imread(str(path), flags)
    if image is None:
        raise ValueError(f"cannot read image {path}: not an image format OpenCV can decode (or the file is corrupt)")
    return image


def read_gray_opencv(path: str | Path) -> np.ndarray:
    """(H, W) float64: OpenCV BGR → gray, rounded (CDDFuse's ``image_read_cv2(..., 'GRAY')``)."""
    bgr = _imread(Path(path), cv2.IMREAD_COLOR).astype(np.float32)
    return np.round(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)).astype(np.float64)


def read_gray_matlab(path: str | Path) -> np.ndarray:
    """(H, W) float64: MATLAB ``rgb2gray`` of colour files (rounded), gray files unchanged."""
    image = _imread(Path(path), cv2.IMREAD_UNCHANGED)
    if image.dtype != np.uint8:
        raise ValueError(f"cannot read image {path}: expected 8-bit samples, got {image.dtype}")
    if image.ndim == 2:
        return image.astype(np.float64)
    blue, green, red = (image[..., i].astype(np.float64) for i in range(3))
    r, g, b = MATLAB_LUMA
    return np.clip(np.round(r * red + g * green + b * blue), 0, UINT8_MAX)


READERS: dict[str, Callable[[str | Path], np.ndarray]] = {
    "opencv": read_gray_opencv,
    "matlab": read_gray_matlab,
}


def read_gray(path: str | Path, reader: str) -> np.ndarray:
    """Read ``path`` with the named reader (a convention's ``reader``). Returns (H, W) float64."""
    try:
        return READERS[reader](path)
    except KeyError:
        raise ValueError(f"unknown image reader {reader!r}; choose one of {sorted(READERS)}") from None
