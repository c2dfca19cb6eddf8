"""Colour handling for fusion: models fuse luminance; colour comes back from the visible image.

A visible image is *colour* when its channels differ somewhere; an RGB file whose three
channels are equal (TNO ships its grayscale images that way) counts as grayscale, and
the fused result stays grayscale. For colour, the fused luminance replaces Y and the
visible image's Cb/Cr (BT.601, :mod:`ivif.color`) are restored. Conversions run in row
bands, so no float copy of a whole huge image is made.
"""

from __future__ import annotations

import numpy as np

from ivif.color import rgb_to_ycbcr, ycbcr_to_rgb

UINT8_MAX = 255.0
BAND_PIXELS = 1 << 20  # pixels per band of the colour conversion


def is_colour(image: np.ndarray) -> bool:
    """True for an (H, W, 3) array whose channels are not all equal."""
    return (
        image.ndim == 3
        and image.shape[-1] == 3
        and not (np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2]))
    )


def chroma_of(rgb_uint8: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W, 2) float32 Cb, Cr in [0, 1] (centred on 0.5)."""
    return rgb_to_ycbcr(rgb_uint8.astype(np.float32) / UINT8_MAX)[..., 1:]


def merge_luma_chroma(luma: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """(H, W) Y in [0, 1] and (H, W, 2) Cb, Cr -> (H, W, 3) RGB float32 clipped to [0, 1]."""
    ycbcr = np.concatenate((luma[..., None], chroma), axis=-1)
    return np.clip(ycbcr_to_rgb(ycbcr), 0.0, 1.0)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] float image -> uint8, clipping out-of-range values (no stretching)."""
    return np.round(np.clip(image, 0.0, 1.0) * UINT8_MAX).astype(np.uint8)


def fused_to_uint8(fused: np.ndarray, vi_rgb: np.ndarray | None) -> np.ndarray:
    """(H, W) fused luminance -> (H, W) uint8, or (H, W, 3) uint8 RGB with ``vi_rgb``'s colour."""
    if vi_rgb is None:
        out = np.empty(fused.shape, dtype=np.uint8)
    else:
        out = np.empty((*fused.shape, 3), dtype=np.uint8)
    rows = max(BAND_PIXELS // max(fused.shape[1], 1), 1)
    for top in range(0, fused.shape[0], rows):
        band = slice(top, top + rows)
        value = fused[band] if vi_rgb is None else merge_luma_chroma(fused[band], chroma_of(vi_rgb[band]))
        out[band] = to_uint8(value)
    return out
