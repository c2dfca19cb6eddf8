"""Whole-image fusion in one forward pass, for any image size.

The networks need H and W to be multiples of 4 (two pixel-unshuffle steps). Inputs are
padded on the bottom and right by reflection up to the next multiple, fused, and the
output cropped back, so the result has the input's size. Inputs already a multiple of 4
go through untouched (this is how the upstream ``full`` references were made, on inputs
cropped to a multiple of 4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ivif.fusion.device import as_model_input
from ivif.models.contract import SIZE_MULTIPLE


def pad_amount(size: int, multiple: int = SIZE_MULTIPLE) -> int:
    """Pixels to add to ``size`` to reach a multiple of ``multiple``."""
    return -size % multiple


def pad_to_multiple(x: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H', W') with H', W' the next multiples, padded bottom/right.

    Reflection keeps image statistics at the border; images too small to reflect (a side
    of at most the pad) are padded by replication instead.
    """
    height, width = x.shape[-2:]
    pad_h, pad_w = pad_amount(height, multiple), pad_amount(width, multiple)
    if not pad_h and not pad_w:
        return x
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


@torch.no_grad()
def fuse_full(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Fuse a batch in one pass.

    Args:
        model: a fusion model (eval mode) following :mod:`ivif.models.contract`.
        x: (B, 2, H, W) [IR, VIS luma] in [0, 1], any H and W.
    Returns:
        (B, 1, H, W) float32 raw model output (tanh range), same device as ``x``.
    """
    height, width = x.shape[-2:]
    fused = model(as_model_input(pad_to_multiple(x)))
    return fused[..., :height, :width].float()
