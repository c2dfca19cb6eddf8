"""PSNR of the fused image against both sources."""

from __future__ import annotations

import torch

from ivif.metrics.mse import mean_squared_error


def peak_signal_to_noise_ratio(
    ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor, peak: float | None = None, mse_intensity_scale: float = 1.0
) -> torch.Tensor:
    """PSNR = 10·log10(peak² / MSE), MSE from ``mean_squared_error``.

    Args:
        ir, vi, fused: (B, H, W).
        peak: the signal peak; None takes each fused image's maximum (CDDFuse).
        mse_intensity_scale: passed to ``mean_squared_error``.
    Returns:
        (B,) dB (inf when the fused image equals both sources).
    """
    mse = mean_squared_error(ir, vi, fused, mse_intensity_scale)
    peak_values = fused.flatten(1).amax(dim=1) if peak is None else torch.full_like(mse, peak)
    return 10 * torch.log10(peak_values.square() / mse)
