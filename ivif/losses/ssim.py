"""SSIM with an 11×11 Gaussian window, and the paper's adaptive SSIM loss.

SSIM (Wang et al. 2004) with the usual constants for data range L = 1:
C1 = (0.01·L)², C2 = (0.03·L)²; local statistics are Gaussian-weighted (σ = 1.5,
11×11, normalised to sum 1) population moments over the 'valid' region, so the map is
(H − 10) × (W − 10) and no padding value leaks into the statistics.

Adaptive SSIM loss, per image b of the batch:

    s_ir = SSIM(ir, F),  s_vi = SSIM(vi, F)              (means of the maps)
    w_ir, w_vi = W(s_ir⁺; s_ir⁺, s_vi⁺), W(s_vi⁺; s_vi⁺, s_ir⁺),   s⁺ = max(s, 0)
    L_ssim = mean_b [1 − (w_ir·s_ir + w_vi·s_vi)]

The weights are computed from the two SSIM values, clamped at 0 (SSIM can be negative,
which would make W leave [0, 1]) and detached: they decide *which* source F should
resemble more, and the gradient flows through the SSIM values only. If neither SSIM is
positive the two sources get ½ each.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ivif.losses._checks import check_images
from ivif.losses.weights import DEFAULT_EPS, adaptive_weights

WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
DATA_RANGE = 1.0
K1, K2 = 0.01, 0.03


def gaussian_window(size: int = WINDOW_SIZE, sigma: float = WINDOW_SIGMA, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """1-D Gaussian window of ``size`` taps, summing to 1. Returns (size,)."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"window size must be a positive odd number, got {size}")
    coords = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    window = torch.exp(-(coords**2) / (2 * sigma**2))
    return window / window.sum()


def _filter(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filter of (N, 1, H, W) -> (N, 1, H − k + 1, W − k + 1)."""
    k = window.numel()
    x = F.conv2d(x, window.view(1, 1, 1, k))
    return F.conv2d(x, window.view(1, 1, k, 1))


def ssim_map(x: torch.Tensor, y: torch.Tensor, data_range: float = DATA_RANGE) -> torch.Tensor:
    """Local SSIM between two images.

    Args:
        x, y: (B, 1, H, W) with H, W >= 11.
        data_range: L in C1 = (0.01·L)², C2 = (0.03·L)².

    Returns:
        (B, 1, H − 10, W − 10) SSIM map.
    """
    check_images(x=x, y=y)
    if min(x.shape[-2:]) < WINDOW_SIZE:
        raise ValueError(f"SSIM needs images of at least {WINDOW_SIZE}×{WINDOW_SIZE}, got {tuple(x.shape[-2:])}")
    window = gaussian_window(dtype=x.dtype, device=x.device)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    # One filter call for the five moments: stack along the batch axis.
    batch = x.shape[0]
    moments = _filter(torch.cat([x, y, x * x, y * y, x * y]), window).split(batch)
    mu_x, mu_y, e_xx, e_yy, e_xy = moments
    var_x = e_xx - mu_x**2
    var_y = e_yy - mu_y**2
    cov = e_xy - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    structure = (2 * cov + c2) / (var_x + var_y + c2)
    return luminance * structure


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = DATA_RANGE) -> torch.Tensor:
    """Mean SSIM per image. Shapes as :func:`ssim_map`; returns (B,)."""
    return ssim_map(x, y, data_range).mean(dim=(1, 2, 3))


def ssim_weights(s_ir: torch.Tensor, s_vi: torch.Tensor, eps: float = DEFAULT_EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Detached adaptive weights from two (B,) SSIM values (see module docstring)."""
    pos_ir, pos_vi = s_ir.detach().clamp_min(0), s_vi.detach().clamp_min(0)
    w_ir, w_vi = adaptive_weights(pos_ir, pos_vi, eps)
    neither = (pos_ir + pos_vi) == 0
    half = torch.full_like(w_ir, 0.5)
    return torch.where(neither, half, w_ir), torch.where(neither, half, w_vi)


def ssim_loss(fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """1 − (w_ir·SSIM(ir, F) + w_vi·SSIM(vi, F)), averaged over the batch.

    Args:
        fused, ir, vi: (B, 1, H, W) with H, W >= 11; sources in [0, 1].
        eps: ε of the adaptive weight.

    Returns:
        scalar tensor.
    """
    check_images(fused=fused, ir=ir, vi=vi)
    s_ir, s_vi = ssim(ir, fused), ssim(vi, fused)
    w_ir, w_vi = ssim_weights(s_ir, s_vi, eps)
    return (1 - (w_ir * s_ir + w_vi * s_vi)).mean()


class SSIMLoss(nn.Module):
    """Module form of :func:`ssim_loss`."""

    def __init__(self, eps: float = DEFAULT_EPS):
        super().__init__()
        self.eps = eps

    def forward(self, fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        return ssim_loss(fused, ir, vi, self.eps)
