"""MSE and PSNR of the fused image against both sources."""

from __future__ import annotations

import torch


def mean_squared_error(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor, intensity_scale: float = 1.0) -> torch.Tensor:
    """MSE = (mean((IR−F)²) + mean((VI−F)²)) / 2 on images multiplied by ``intensity_scale``.

    Args:
        ir, vi, fused: (B, H, W).
    Returns:
        (B,)
    """
    scale2 = intensity_scale * intensity_scale
    ir_err = (ir - fused).square().mean(dim=(1, 2))
    vi_err = (vi - fused).square().mean(dim=(1, 2))
    return scale2 * (ir_err + vi_err) / 2
