"""Adaptive gradient loss on normalised Sobel magnitudes.

Definition (exact):

    Gx = Kx ⋆ x,  Gy = Ky ⋆ x   (cross-correlation, replicate padding, same size)
    Kx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],  Ky = Kxᵀ
    M(x) = (|Gx| + |Gy|) / 6

6 is the largest value |Gx| + |Gy| can take for x in [0, 1] (the positive coefficients
of Kx + Ky sum to 6), so M maps [0, 1] images to [0, 1]. The L1 form |Gx| + |Gy| is used
rather than sqrt(Gx² + Gy²) because it has a finite gradient at flat pixels (sqrt has an
infinite derivative at 0, which turns into NaN in backward). Replicate padding makes the
border of a flat image flat, not an edge.

    L_grad = mean |M(F) − (W(M_ir; M_ir, M_vi)·M_ir + W(M_vi; M_vi, M_ir)·M_vi)|
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ivif.losses._checks import check_images
from ivif.losses.weights import DEFAULT_EPS, weighted_target

SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))
# max over x in [0, 1] of |Gx| + |Gy|: the sum of the positive coefficients of Kx + Ky.
SOBEL_L1_MAX = 6.0


def _sobel_kernels(like: torch.Tensor) -> torch.Tensor:
    """(2, 1, 3, 3) kernels [Kx, Ky] on ``like``'s device and dtype."""
    kx = torch.tensor(SOBEL_X, dtype=like.dtype, device=like.device)
    return torch.stack([kx, kx.t()]).unsqueeze(1)


def sobel_magnitude(image: torch.Tensor) -> torch.Tensor:
    """Normalised Sobel magnitude M(x) = (|Gx| + |Gy|) / 6 (see module docstring).

    Args:
        image: (B, 1, H, W); values in [0, 1] give M in [0, 1].

    Returns:
        (B, 1, H, W) tensor.
    """
    check_images(image=image)
    padded = F.pad(image, (1, 1, 1, 1), mode="replicate")
    gxy = F.conv2d(padded, _sobel_kernels(image))
    return gxy.abs().sum(dim=1, keepdim=True) / SOBEL_L1_MAX


def gradient_loss(fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """L1 between M(F) and the adaptive mix of M(ir) and M(vi).

    Args:
        fused, ir, vi: (B, 1, H, W); sources in [0, 1].
        eps: ε of the adaptive weight.

    Returns:
        scalar tensor.
    """
    check_images(fused=fused, ir=ir, vi=vi)
    target = weighted_target(sobel_magnitude(ir), sobel_magnitude(vi), eps)
    return (sobel_magnitude(fused) - target).abs().mean()


class GradientLoss(nn.Module):
    """Module form of :func:`gradient_loss`."""

    def __init__(self, eps: float = DEFAULT_EPS):
        super().__init__()
        self.eps = eps

    def forward(self, fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        return gradient_loss(fused, ir, vi, self.eps)
