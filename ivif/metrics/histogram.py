"""Gray-level histograms and entropies of image batches (on any device).

Information metrics (EN, MI) count discrete gray levels, so images are quantised to
the integers 0..255 first (rounded, clipped); images read by ``ivif.metrics.reading``
already are.
"""

from __future__ import annotations

import math

import torch

GRAY_LEVELS = 256


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round to gray levels, saturating to 0..255 like uint8.

    Args:
        images: (B, H, W) intensities in 0..255.
    Returns:
        (B, H·W) int64 gray levels.
    """
    return torch.round(images.flatten(1)).clamp_(0, GRAY_LEVELS - 1).long()


def saturating_add(levels: torch.Tensor, offset: int) -> torch.Tensor:
    """``levels + offset`` saturated at 255, as uint8 arithmetic in MATLAB. (B, N) -> (B, N)"""
    if offset == 0:
        return levels
    return torch.clamp(levels + offset, max=GRAY_LEVELS - 1)


def histogram(levels: torch.Tensor) -> torch.Tensor:
    """Normalised histograms of each row of gray levels.

    Args:
        levels: (B, N) int64 in 0..255.
    Returns:
        (B, 256) probabilities.
    """
    batch, n = levels.shape
    rows = torch.arange(batch, device=levels.device).unsqueeze(1) * GRAY_LEVELS
    counts = torch.bincount((levels + rows).flatten(), minlength=batch * GRAY_LEVELS)
    return counts.view(batch, GRAY_LEVELS).double() / n


def joint_histogram(levels_a: torch.Tensor, levels_b: torch.Tensor) -> torch.Tensor:
    """Normalised joint histograms of paired gray levels.

    Args:
        levels_a, levels_b: (B, N) int64 in 0..255.
    Returns:
        (B, 256·256) probabilities, index a·256 + b.
    """
    batch, n = levels_a.shape
    bins = GRAY_LEVELS * GRAY_LEVELS
    rows = torch.arange(batch, device=levels_a.device).unsqueeze(1) * bins
    counts = torch.bincount((levels_a * GRAY_LEVELS + levels_b + rows).flatten(), minlength=batch * bins)
    return counts.view(batch, bins).double() / n


def entropy_of(probabilities: torch.Tensor, log_base: float = 2.0) -> torch.Tensor:
    """Shannon entropy −Σ p·log p of each row, with 0·log 0 = 0.

    Args:
        probabilities: (B, K).
    Returns:
        (B,) in units of ``log_base``.
    """
    p = probabilities
    logs = torch.where(p > 0, torch.log(p), torch.zeros_like(p))
    return -(p * logs).sum(dim=1) / math.log(log_base)
