"""Gray-level histograms and entropies of image batches (on any device).

Information metrics (EN, MI) count discrete gray levels, so images are quantised to
the integers 0..255 first (rounded, clipped); images read by ``ivif.metrics.reading``
already are.
"""

from __future__ import annotations

import math

import torch

GRAY_LEVELS = 256
LEVEL_DTYPE = torch.int32
"""Gray levels and one image's joint-histogram bin indices (< 256²): half the memory
traffic of int64. Batch row offsets are added in int64 (no overflow for any batch)."""


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round to gray levels, saturating to 0..255 like uint8.

    Args:
        images: (B, H, W) intensities in 0..255.
    Returns:
        (B, H·W) ``LEVEL_DTYPE`` gray levels.
    """
    return torch.round(images.flatten(1)).clamp_(0, GRAY_LEVELS - 1).to(LEVEL_DTYPE)


def saturating_add(levels: torch.Tensor, offset: int) -> torch.Tensor:
    """``levels + offset`` saturated at 255, as uint8 arithmetic in MATLAB. (B, N) -> (B, N)"""
    if offset == 0:
        return levels
    return torch.clamp(levels + offset, max=GRAY_LEVELS - 1)


def _row_offsets(batch: int, bins: int, device: torch.device) -> torch.Tensor:
    """int64 offsets that give each batch row its own run of ``bins`` bins. -> (B, 1)"""
    return torch.arange(batch, dtype=torch.int64, device=device).unsqueeze(1) * bins


def histogram(levels: torch.Tensor) -> torch.Tensor:
    """Normalised histograms of each row of gray levels.

    Args:
        levels: (B, N) gray levels from ``quantize``.
    Returns:
        (B, 256) probabilities.
    """
    batch, n = levels.shape
    index = levels + _row_offsets(batch, GRAY_LEVELS, levels.device) if batch > 1 else levels
    counts = torch.bincount(index.flatten(), minlength=batch * GRAY_LEVELS)
    return counts.view(batch, GRAY_LEVELS).double() / n


def joint_histogram(levels_a: torch.Tensor, levels_b: torch.Tensor) -> torch.Tensor:
    """Normalised joint histograms of paired gray levels.

    Args:
        levels_a, levels_b: (B, N) gray levels from ``quantize``.
    Returns:
        (B, 256·256) probabilities, index a·256 + b.
    """
    batch, n = levels_a.shape
    bins = GRAY_LEVELS * GRAY_LEVELS
    index = (levels_a * GRAY_LEVELS).add_(levels_b)
    if batch > 1:
        index = index + _row_offsets(batch, bins, index.device)
    counts = torch.bincount(index.flatten(), minlength=batch * bins)
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
