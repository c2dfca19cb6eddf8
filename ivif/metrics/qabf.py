"""Qabf: Xydeas & Petrović's edge-preservation quality, quirks of the reference kept.

Gradients are Sobel responses with zero padding; orientation is ``arctan(gy/gx)`` (not
``arctan2``, so opposite edges count as aligned), π/2 where gx = 0. Where a source's
gradient strength equals the fused one, the reference sets the strength ratio to the
fused strength itself rather than 1; that is kept so the numbers match.
"""

from __future__ import annotations

import math

import torch

from ivif.metrics.bands import band_sums
from ivif.metrics.filtering import separable_correlate

# Sobel factors as *correlation* kernels equal to the reference's convolve2d (which
# flips) with [[-1,0,1],[-2,0,2],[-1,0,1]] for gx and [[1,2,1],[0,0,0],[-1,-2,-1]] for
# gy. The signs matter: arctan(gy/gx) changes sign with either.
SOBEL_SMOOTH = (1.0, 2.0, 1.0)
SOBEL_DIFF_X = (1.0, 0.0, -1.0)
SOBEL_DIFF_Y = (-1.0, 0.0, 1.0)

# Sigmoid constants of the perceptual model: strength (g) and orientation (a).
STRENGTH_GAIN, STRENGTH_SLOPE, STRENGTH_MID = 0.9994, -15.0, 0.5
ORIENT_GAIN, ORIENT_SLOPE, ORIENT_MID = 0.9879, -22.0, 0.8


def sobel_gradients(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal and vertical Sobel responses, zero padding (exact on integer images).

    Args:
        images: (..., H, W).
    Returns:
        gx, gy: (..., H, W) each.
    """
    smooth = torch.tensor(SOBEL_SMOOTH, dtype=images.dtype, device=images.device)
    diff_x = torch.tensor(SOBEL_DIFF_X, dtype=images.dtype, device=images.device)
    diff_y = torch.tensor(SOBEL_DIFF_Y, dtype=images.dtype, device=images.device)
    return separable_correlate(images, smooth, diff_x, border="zeros"), separable_correlate(images, diff_y, smooth, border="zeros")


def strength_orientation(gx: torch.Tensor, gy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient magnitude and arctan orientation. (..., H, W) each -> (..., H, W) each,
    orientation in [−π/2, π/2]."""
    strength = torch.addcmul(gx * gx, gy, gy).sqrt_()  # exact sums of squares on integer images
    # arctan(±inf) is exactly ±π/2: where gx = 0 the reference takes +π/2 whatever gy.
    orientation = torch.div(gy, gx).masked_fill_(gx == 0, math.inf).atan_()
    return strength, orientation


def _sigmoid_denominator(x: torch.Tensor, slope: float, mid: float) -> torch.Tensor:
    """1 + exp(slope·(x − mid)), the denominator of gain / (1 + exp(…)), in place in ``x``."""
    return x.sub_(mid).mul_(slope).exp_().add_(1)


def edge_preservation(g_source: torch.Tensor, a_source: torch.Tensor, g_fused: torch.Tensor, a_fused: torch.Tensor) -> torch.Tensor:
    """Per-pixel Q^{SF} = Qg · Qa, each a scaled sigmoid: Qg of the strength ratio, Qa of
    the alignment 1 − |a_S − a_F|/(π/2). Shapes: (..., H, W) each -> (..., H, W).

    Both gains are applied once to the product of the two denominators, and in-place
    arithmetic on fresh temporaries: Qabf's cost is memory traffic.
    """
    ratio = torch.minimum(g_source, g_fused).div_(torch.maximum(g_source, g_fused))
    ratio = torch.where(g_source == g_fused, g_fused, ratio)  # the reference's quirk (also 0/0)
    # ka·(alignment − Da) = ka·(1 − Da) − ka·|a_S − a_F|/(π/2): one pass fewer on each term.
    orient_exponent = (a_source - a_fused).abs_().mul_(-ORIENT_SLOPE / (math.pi / 2))
    orient_exponent.add_(ORIENT_SLOPE * (1 - ORIENT_MID))
    denominator = _sigmoid_denominator(ratio, STRENGTH_SLOPE, STRENGTH_MID)
    denominator.mul_(orient_exponent.exp_().add_(1))
    return denominator.reciprocal_().mul_(STRENGTH_GAIN * ORIENT_GAIN)


def qabf(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """Qabf = Σ(Q^{IR,F}·g_IR + Q^{VI,F}·g_VI) / Σ(g_IR + g_VI), summed in row bands.

    Args:
        ir, vi, fused: (B, H, W).
    Returns:
        (B,) in [0, 1]; NaN when both sources are flat.
    """
    gx, gy = sobel_gradients(torch.stack([ir, vi, fused], dim=1))
    weighted, total = band_sums(_weighted_preservation, (gx, gy))
    return weighted / total


def _weighted_preservation(gx: torch.Tensor, gy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Σ Q^{S,F}·g_S and Σ g_S over both sources from Sobel responses.

    Args:
        gx, gy: (B, 3, h, W), planes IR, VI, fused.
    Returns:
        (B,), (B,)
    """
    strength, orientation = strength_orientation(gx, gy)
    g_src = strength[:, :2]
    q = edge_preservation(g_src, orientation[:, :2], strength[:, 2:], orientation[:, 2:])
    return q.mul_(g_src).sum(dim=(1, 2, 3)), g_src.sum(dim=(1, 2, 3))
