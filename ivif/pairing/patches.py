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

    Reflection reaches at most L - 1 pixels per pass along an axis of length L, so tiny
    images are padded in several passes; a 1-pixel axis can only be repeated.
    """
    for axis in (0, 1):
        while img.shape[axis] < size:
            length = img.shape[axis]
            pads = [(0, 0)] * img.ndim
            pads[axis] = (0, min(size - length, max(length - 1, 1)))
            img = np.pad(img, pads, mode="reflect" if length > 1 else "edge")
    return img


def crop_origin_bounds(height: np.ndarray, width: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Number of valid top-left rows and columns of a size×size crop (1 where padded), elementwise."""
    return np.maximum(np.asarray(height) - size, 0) + 1, np.maximum(np.asarray(width) - size, 0) + 1


def crop(img: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """The size×size window at (top, left) of (H, W[, C]), reflect-padding small images first."""
    img = pad_to_min_size(img, size)
    return img[top : top + size, left : left + size]


def gray_plane(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) uint8 -> (H, W) float32 in [0, 255]: luma (BT.601 Y) of RGB, the plane of gray."""
    if img.ndim == 3 and img.shape[2] == 3:
        return rgb_to_y(np.ascontiguousarray(img))  # a contiguous copy converts ~25% faster than a strided crop
    plane = img[:, :, 0] if img.ndim == 3 else img
    return plane.astype(np.float32)


def to_unit_gray(img: np.ndarray) -> np.ndarray:
    """:func:`gray_plane` scaled to [0, 1]."""
    return gray_plane(img) / np.float32(UINT8_MAX)


def flip(patch: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    """Mirror a (..., H, W) patch left-right and/or top-bottom."""
    if horizontal:
        patch = patch[..., :, ::-1]
    if vertical:
        patch = patch[..., ::-1, :]
    return patch


def flip_batch(batch: np.ndarray, horizontal: np.ndarray, vertical: np.ndarray) -> None:
    """Mirror rows of a (B, ..., H, W) batch in place where ``horizontal``/``vertical`` (B,) are true."""
    horizontal, vertical = np.asarray(horizontal, bool), np.asarray(vertical, bool)
    batch[horizontal] = batch[horizontal][..., :, ::-1]
    batch[vertical] = batch[vertical][..., ::-1, :]
