"""SCD: sum of the correlations of differences (Aslantas & Bendes)."""

from __future__ import annotations

import torch

from ivif.metrics.cc import pearson


def sum_of_correlations_of_differences(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """SCD = r(IR, F−VI) + r(VI, F−IR): how much of each source the fused image adds
    beyond the other source.

    Args:
        ir, vi, fused: (B, H, W).
    Returns:
        (B,)
    """
    return pearson(ir, fused - vi) + pearson(vi, fused - ir)
