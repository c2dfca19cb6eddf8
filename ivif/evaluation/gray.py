"""uint8 images in memory -> the gray 0..255 arrays a metric convention scores.

The same conversions as :mod:`ivif.metrics.reading` applies to files, so scoring an
image in memory equals scoring it after writing it as PNG and reading it back.
"""

from __future__ import annotations

import cv2
import numpy as np

from ivif.metrics.reading import MATLAB_LUMA, UINT8_MAX


def to_metric_gray(image: np.ndarray, reader: str) -> np.ndarray:
    """(H, W) or (H, W, 3) RGB uint8 -> (H, W) float64 gray as ``reader`` sees it."""
    if image.ndim == 2:
        return image.astype(np.float64)
    if reader == "opencv":
        # CDDFuse: float32 BGR -> GRAY (RGB2GRAY on RGB is the same weights), rounded
        return np.round(cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2GRAY)).astype(np.float64)
    if reader == "matlab":
        weights = np.asarray(MATLAB_LUMA, dtype=np.float64)
        return np.clip(np.round(image.astype(np.float64) @ weights), 0, UINT8_MAX)
    raise ValueError(f"unknown image reader {reader!r}; choose 'opencv' or 'matlab'")
