"""The input/output contract every fusion model in ivif follows.

Input ``(B, 2, H, W)``: channel 0 the infrared image, channel 1 the visible luminance,
both in [0, 1]; H and W multiples of :data:`SIZE_MULTIPLE` (two 2x pixel-unshuffle
steps). Output ``(B, 1, H, W)``: the fused luminance from a tanh head, so in [-1, 1];
the released checkpoints were trained towards [0, 1] targets. ``ivif.fusion`` handles
any image size (padding or tiling) on top of this.
"""

from __future__ import annotations

import torch

IN_CHANNELS = 2  # [IR, VIS luminance]
OUT_CHANNELS = 1  # fused luminance
SIZE_MULTIPLE = 4  # two 2x downsampling steps


def check_fusion_input(x: torch.Tensor, in_channels: int = IN_CHANNELS) -> None:
    """Raise ``ValueError`` unless ``x`` is (B, in_channels, H, W) with H, W multiples of 4."""
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"expected input of shape (B, {in_channels}, H, W), got {tuple(x.shape)}")
    height, width = x.shape[-2:]
    if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        raise ValueError(
            f"input H and W must be multiples of {SIZE_MULTIPLE}, got {height}x{width}; "
            "use ivif.fusion (fuse_full pads by reflection) for arbitrary sizes"
        )
