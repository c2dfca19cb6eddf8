"""SF: spatial frequency, the RMS of horizontal and vertical first differences."""

from __future__ import annotations

import torch


def spatial_frequency(fused: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """SF = scale · √(mean(dx²) + mean(dy²)), means over H×(W−1) and (H−1)×W.

    Args:
        fused: (B, H, W).
        scale: 1/255 gives the SF of the image scaled to 0..1 (MATLAB toolboxes).
    Returns:
        (B,)
    """
    row_freq = (fused[:, :, 1:] - fused[:, :, :-1]).square().mean(dim=(1, 2))
    col_freq = (fused[:, 1:, :] - fused[:, :-1, :]).square().mean(dim=(1, 2))
    return scale * torch.sqrt(row_freq + col_freq)
