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
    centered = torch.stack([a.flatten(1), b.flatten(1)], dim=1)  # (B, 2, N)
    centered -= centered.mean(dim=2, keepdim=True)
    gram = torch.bmm(centered, centered.transpose(1, 2))  # one BLAS pass, no product temporaries
    return gram[:, 0, 1] / torch.sqrt(gram[:, 0, 0] * gram[:, 1, 1])


def correlation_coefficient(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """CC = (r(IR,F) + r(VI,F)) / 2. Shapes: (B, H, W) each -> (B,)."""
    return (pearson(ir, fused) + pearson(vi, fused)) / 2
