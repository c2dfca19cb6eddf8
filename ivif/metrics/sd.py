"""SD: standard deviation of the fused image (contrast)."""

from __future__ import annotations

import torch


def standard_deviation(fused: torch.Tensor) -> torch.Tensor:
    """Population standard deviation (divides by H·W, like ``np.std``).

    Args:
        fused: (B, H, W).
    Returns:
        (B,)
    """
    return fused.flatten(1).std(dim=1, correction=0)
