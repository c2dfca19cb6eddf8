"""SSIM as scikit-image's ``structural_similarity`` computes it, summed over both sources."""

from __future__ import annotations

import torch

from ivif.metrics.bands import band_sums
from ivif.metrics.filtering import box_filter

WINDOW = 7  # uniform window, scikit-image's default
K1, K2 = 0.01, 0.03


def _ssim_sum_from_moments(mu_x, mu_y, xx, yy, xy, data_range: float) -> tuple[torch.Tensor]:
    """Sum of the SSIM map from local moments.

    mu_x, xx: (B, 1, h, W) of the fused image; mu_y, yy, xy: (B, S, h, W). Returns ((B, S),).
    In-place arithmetic on fresh temporaries (the cost is memory traffic); constants are
    added on the fused image's single plane where the sum allows.
    """
    n = WINDOW * WINDOW
    cov_norm = n / (n - 1)  # sample covariance
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    mu_x2, mu_y2, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    fused_terms = (xx - mu_x2).mul_(cov_norm).add_(c2)  # σx² + C2, on the one fused plane
    variances = (yy - mu_y2).mul_(cov_norm).add_(fused_terms)  # σx² + σy² + C2
    covariance = (xy - mu_xy).mul_(2 * cov_norm).add_(c2)  # 2σxy + C2
    numerator = mu_xy.mul_(2).add_(c1).mul_(covariance)
    denominator = mu_y2.add_(mu_x2.add_(c1)).mul_(variances)
    return (numerator.div_(denominator).sum(dim=(-2, -1)),)


def _moment_planes(fused: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
    """[F, S…, F², S…², F·S…], written once into one buffer. (B, H, W), (B, S, H, W) -> (B, 3S+2, H, W)"""
    s = sources.shape[1]
    planes = fused.new_empty(fused.shape[0], 3 * s + 2, *fused.shape[-2:])
    planes[:, 0] = fused
    planes[:, 1 : 1 + s] = sources
    torch.mul(planes[:, : 1 + s], planes[:, : 1 + s], out=planes[:, 1 + s : 2 + 2 * s])
    torch.mul(planes[:, 1 : 1 + s], planes[:, :1], out=planes[:, 2 + 2 * s :])
    return planes


def structural_similarity(fused: torch.Tensor, sources: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """SSIM(F, S) for each source: 7×7 uniform window, mirrored borders, sample covariance.

    Args:
        fused: (B, H, W).
        sources: (B, S, H, W).
        data_range: L in C1=(0.01·L)², C2=(0.03·L)².
    Returns:
        (B, S); 1 where a source equals the fused image.
    """
    if min(fused.shape[-2:]) < WINDOW:
        raise ValueError(f"SSIM needs images of at least {WINDOW}x{WINDOW}, got {tuple(fused.shape[-2:])}")
    s = sources.shape[1]
    m = box_filter(_moment_planes(fused, sources), WINDOW, border="symmetric")
    pad = WINDOW // 2
    m = m[..., pad:-pad, pad:-pad]  # the border scikit-image leaves out of the mean
    mu_x, mu_y = m[:, :1], m[:, 1 : 1 + s]
    xx, yy, xy = m[:, 1 + s : 2 + s], m[:, 2 + s : 2 + 2 * s], m[:, 2 + 2 * s :]
    (total,) = band_sums(lambda *band: _ssim_sum_from_moments(*band, data_range), (mu_x, mu_y, xx, yy, xy))
    return total / (m.shape[-2] * m.shape[-1])


def ssim_sum(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """SSIM(F, IR) + SSIM(F, VI). Shapes: (B, H, W) each -> (B,)."""
    return structural_similarity(fused, torch.stack([ir, vi], dim=1), data_range).sum(dim=1)
