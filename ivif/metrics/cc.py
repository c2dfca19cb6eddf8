"""CC: mean correlation coefficient between the fused image and each source."""

from __future__ import annotations

import torch


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of each image pair (NaN when one image is constant).

    Args:
        a, b: (B, H, W).
    Returns:
        (B,)
    """
    a = a.flatten(1)
    b = b.flatten(1)
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    return (a * b).sum(dim=1) / torch.sqrt((a * a).sum(dim=1) * (b * b).sum(dim=1))


def correlation_coefficient(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """CC = (r(IR,F) + r(VI,F)) / 2. Shapes: (B, H, W) each -> (B,)."""
    return (pearson(ir, fused) + pearson(vi, fused)) / 2
