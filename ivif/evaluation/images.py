"""Fusing uint8 image arrays (not files): what evaluation and the served model need.

The same path as ``ivif fuse`` on files (:mod:`ivif.fusion`): IR and visible luminance
are :func:`ivif.io.images.luma` / 255 (PIL's ``convert("L")``), a colour visible image
gives back its Cb/Cr, the result is 8-bit without stretching, and huge ``full`` pairs
are fused streamed in bounded memory. So fusing arrays equals fusing the files they were
read from.
"""

from __future__ import annotations

import numpy as np
import torch

from ivif.fusion.color import UINT8_MAX
from ivif.fusion.io import FusionPair, split_visible
from ivif.fusion.runner import CPU, fuse_pair_uint8
from ivif.io.images import luma


def luma_unit(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 -> (H, W) float32 in [0, 1], PIL's ``convert("L")`` / 255."""
    gray = image if image.ndim == 2 else luma(image)
    return gray.astype(np.float32) / np.float32(UINT8_MAX)


def fuse_uint8_pair(
    model: torch.nn.Module,
    ir: np.ndarray,
    vi: np.ndarray,
    mode: str = "full",
    device: torch.device = CPU,
) -> np.ndarray:
    """Fuse an (H, W) uint8 IR image with an (H, W) or (H, W, 3) uint8 visible image.

    ``model`` must be on ``device`` in eval mode (:func:`ivif.fusion.device.prepare_model`).
    Returns (H, W, 3) uint8 RGB when ``vi`` is colour, else (H, W) uint8.
    """
    if ir.shape[:2] != vi.shape[:2]:
        raise ValueError(
            f"ir is {ir.shape[1]}x{ir.shape[0]} but vi is {vi.shape[1]}x{vi.shape[0]}; a pair must be registered to the same size"
        )
    ir_luma = ir if ir.ndim == 2 else luma(ir)
    return fuse_pair_uint8(model, FusionPair("array", ir_luma, split_visible(vi)), mode, device)
