"""Patch geometry and pixel conversion for the pair loader (pure numpy).

Shapes: images are (H, W) or (H, W, C) uint8 as :class:`ivif.data.cache.ImageCache`
returns them; patches are (P, P) float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np

from ivif.color import rgb_to_y

UINT8_MAX = 255.0


def pad_to_min_size(img: np.ndarray, size: int) -> np.ndarray:
    """Reflect-pad (H, W[, C]) so that H >= size and W >= size (bottom/right edges).

    Reflection needs at least two pixels along an axis and reaches at most H - 1 pixels
    per pass, so tiny images are padded in several passes (a 1-pixel axis is repeated).
    """
    while img.shape[0] < size or img.shape[1] < size:
        pads = [(0, _pass_pad(img.shape[0], size)), (0, _pass_pad(img.shape[1], size))] + [(0, 0)] * (img.ndim - 2)
        mode = "reflect" if min(img.shape[:2]) > 1 else "edge"
        img = np.pad(img, pads, mode=mode)
    return img


def _pass_pad(length: int, size: int) -> int:
    return min(max(size - length, 0), max(length - 1, 1))


def crop_origin_bounds(height: np.ndarray, width: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Number of valid top-left rows and columns of a size×size crop (1 where padded), elementwise."""
    return np.maximum(np.asarray(height) - size, 0) + 1, np.maximum(np.asarray(width) - size, 0) + 1


def crop(img: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """The size×size window at (top, left) of (H, W[, C]), reflect-padding small images first."""
    img = pad_to_min_size(img, size)
    return img[top : top + size, left : left + size]


def to_unit_gray(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) uint8 -> (H, W) float32 in [0, 1]: luma (BT.601 Y) of RGB, the plane of gray."""
    if img.ndim == 3 and img.shape[2] == 3:
        return rgb_to_y(img) / np.float32(UINT8_MAX)
    plane = img[:, :, 0] if img.ndim == 3 else img
    return plane.astype(np.float32) / np.float32(UINT8_MAX)


def flip(patch: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    """Mirror a (..., H, W) patch left-right and/or top-bottom."""
    if horizontal:
        patch = patch[..., :, ::-1]
    if vertical:
        patch = patch[..., ::-1, :]
    return patch
