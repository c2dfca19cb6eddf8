"""Fusing uint8 image arrays (not files): what evaluation and the served model need.

The same conventions as ``ivif fuse`` on files (:mod:`ivif.fusion.io`): IR and visible
luminance are ``PIL convert("L") / 255``, a colour visible image gives back its Cb/Cr,
and the result is 8-bit without stretching. So fusing arrays equals fusing the files
they were read from.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ivif.fusion.color import UINT8_MAX, chroma_of, is_colour, merge_luma_chroma, to_uint8
from ivif.fusion.runner import fuse_array


def luma_unit(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 -> (H, W) float32 in [0, 1], PIL's ``convert("L")``."""
    gray = image if image.ndim == 2 else np.asarray(Image.fromarray(image).convert("L"))
    return gray.astype(np.float32) / np.float32(UINT8_MAX)


def fuse_uint8_pair(
    model: torch.nn.Module,
    ir: np.ndarray,
    vi: np.ndarray,
    mode: str = "full",
    device: torch.device = torch.device("cpu"),
) -> np.ndarray:
    """Fuse an (H, W) uint8 IR image with an (H, W) or (H, W, 3) uint8 visible image.

    ``model`` must be on ``device`` in eval mode (:func:`ivif.fusion.device.prepare_model`).
    Returns (H, W, 3) uint8 RGB when ``vi`` is colour, else (H, W) uint8.
    """
    if ir.shape[:2] != vi.shape[:2]:
        raise ValueError(f"ir is {ir.shape[1]}x{ir.shape[0]} but vi is {vi.shape[1]}x{vi.shape[0]}; a pair must be registered to the same size")
    chroma = chroma_of(vi) if is_colour(vi) else None
    fused = fuse_array(model, np.stack((luma_unit(ir), luma_unit(vi))), mode, device)
    return to_uint8(merge_luma_chroma(fused, chroma) if chroma is not None else fused)
