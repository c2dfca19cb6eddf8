"""Adaptive intensity loss: L1(F, W(ir; ir, vi)·ir + W(vi; vi, ir)·vi), per pixel."""

from __future__ import annotations

import torch
from torch import nn

from ivif.losses._checks import check_images
from ivif.losses.weights import DEFAULT_EPS, weighted_target


def intensity_loss(fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """Mean absolute difference between the fused image and the adaptive pixel target.

    Args:
        fused: (B, 1, H, W) fused image.
        ir: (B, 1, H, W) infrared source in [0, 1].
        vi: (B, 1, H, W) visible luma in [0, 1].
        eps: ε of the adaptive weight.

    Returns:
        scalar tensor, mean over every pixel of the batch.
    """
    check_images(fused=fused, ir=ir, vi=vi)
    return (fused - weighted_target(ir, vi, eps)).abs().mean()


class IntensityLoss(nn.Module):
    """Module form of :func:`intensity_loss`."""

    def __init__(self, eps: float = DEFAULT_EPS):
        super().__init__()
        self.eps = eps

    def forward(self, fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        return intensity_loss(fused, ir, vi, self.eps)
