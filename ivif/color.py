"""Colour conversions: visible images are fused on their luma (Y), colour comes back as Cb/Cr.

Luma has one definition everywhere (training, fusion, evaluation, serving):
:func:`ivif.io.images.luma`, PIL's 8-bit ``convert("L")``; :func:`rgb_to_y` is that
luma as float32 for the training inputs. Colour restoration uses BT.601 full-range
YCbCr (:func:`rgb_to_ycbcr`, :func:`ycbcr_to_rgb`; OpenCV's ``COLOR_RGB2YCrCb``), on
numpy arrays with channels last (``(..., 3)``) in any float range.
"""

from __future__ import annotations

import numpy as np

from ivif.io.images import luma

# Rows: Y, Cb, Cr as weights of R, G, B.
_RGB_TO_YCBCR = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.168736, -0.331264, 0.5],
        [0.5, -0.418688, -0.081312],
    ]
)
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)


def rgb_to_ycbcr(rgb: np.ndarray, offset: float = 0.5) -> np.ndarray:
    """(..., 3) RGB -> (..., 3) YCbCr; chroma is centred on ``offset`` (0.5 for [0,1] data, 128 for [0,255])."""
    rgb = np.asarray(rgb, dtype=np.float32)
    ycc = rgb @ _RGB_TO_YCBCR.T.astype(np.float32)
    ycc[..., 1:] += offset
    return ycc


def ycbcr_to_rgb(ycc: np.ndarray, offset: float = 0.5) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`."""
    ycc = np.array(ycc, dtype=np.float32, copy=True)
    ycc[..., 1:] -= offset
    return ycc @ _YCBCR_TO_RGB.T.astype(np.float32)


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (...) float32 luma in [0, 255]: :func:`ivif.io.images.luma`
    (PIL's rounded 8-bit ``convert("L")``), the luma fusion and serving read, so training
    sees exactly what inference sees."""
    return luma(np.ascontiguousarray(rgb)).astype(np.float32)
