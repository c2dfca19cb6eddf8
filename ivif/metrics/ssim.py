"""SSIM as scikit-image's ``structural_similarity`` computes it, summed over both sources."""

from __future__ import annotations

import torch

from ivif.metrics.filtering import box_filter

WINDOW = 7  # uniform window, scikit-image's default
K1, K2 = 0.01, 0.03


def _ssim_from_moments(mu_x, mu_y, xx, yy, xy, data_range: float) -> torch.Tensor:
    """Mean SSIM map from local moments, border of WINDOW//2 cropped.

    mu_x, xx: (B, 1, H, W) of the fused image; mu_y, yy, xy: (B, S, H, W). Returns (B, S).
    In-place arithmetic on fresh temporaries (the cost is memory traffic).
    """
    n = WINDOW * WINDOW
    cov_norm = n / (n - 1)  # sample covariance
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    mu_x2, mu_y2, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    variances = (yy - mu_y2).add_(xx - mu_x2).mul_(cov_norm).add_(c2)  # σx² + σy² + C2
    covariance = (xy - mu_xy).mul_(2 * cov_norm).add_(c2)  # 2σxy + C2
    numerator = mu_xy.mul_(2).add_(c1).mul_(covariance)
    denominator = mu_y2.add_(mu_x2).add_(c1).mul_(variances)
    ssim_map = numerator.div_(denominator)
    pad = WINDOW // 2
    return ssim_map[..., pad:-pad, pad:-pad].mean(dim=(-2, -1))


def structural_similarity(
    fused: torch.Tensor, sources: torch.Tensor, data_range: float = 2.0
) -> torch.Tensor:
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
    x = fused.unsqueeze(1)
    planes = torch.cat([x, sources, x * x, sources * sources, x * sources], dim=1)
    m = box_filter(planes, WINDOW, border="symmetric")
    mu_x, mu_y = m[:, :1], m[:, 1 : 1 + s]
    xx, yy, xy = m[:, 1 + s : 2 + s], m[:, 2 + s : 2 + 2 * s], m[:, 2 + 2 * s :]
    return _ssim_from_moments(mu_x, mu_y, xx, yy, xy, data_range)


def ssim_sum(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """SSIM(F, IR) + SSIM(F, VI). Shapes: (B, H, W) each -> (B,)."""
    return structural_similarity(fused, torch.stack([ir, vi], dim=1), data_range).sum(dim=1)
