"""VIF: pixel-domain multi-scale visual information fidelity (Sheikh & Bovik's VIFp).

The reference evaluators filter each of 10 moment maps with a full N×N window in
``convolve2d``; here the window is separable and the moments shared by both sources
(the fused image's mean and energy) are filtered once, all planes in one call; the
per-pixel information terms are then summed a band of rows at a time (in cache).
"""

from __future__ import annotations

import torch

from ivif.metrics.bands import band_sums
from ivif.metrics.filtering import gaussian_kernel_1d, separable_correlate

SCALES = 4
NOISE_VARIANCE = 2.0  # σn² of the HVS noise model
EPS = 1e-10  # variance floor of the reference implementation


def window_size(scale: int) -> int:
    """N = 2^(5−s) + 1 for scales s = 1..4 (17, 9, 5, 3); σ = N/5."""
    return 2 ** (SCALES + 1 - scale) + 1


def _filter(planes: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    return separable_correlate(planes, kernel, kernel, border="valid")


def _information_terms(
    mu_ref: torch.Tensor, mu_dist: torch.Tensor, ref_sq: torch.Tensor, dist_sq: torch.Tensor, cross: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Numerator and denominator sums of one scale from local moments. (B, S, h, w) -> (B, S), (B, S)

    The reference patches degenerate windows one mask at a time (flat reference: gain 0;
    flat distorted image: gain 0; negative gain: gain 0, noise = σ²_dist; noise floored
    at EPS). Every one of those windows ends with gain 0, i.e. a zero numerator term,
    so the same sums follow from zeroing the gain where the distorted window is flat
    and σ²_ref where the reference one is (gain²·0 = 0): fewer passes. Called on row
    bands (``band_sums``), so its temporaries stay in cache.
    """
    sigma_ref = torch.addcmul(ref_sq, mu_ref, mu_ref, value=-1).clamp_(min=0)
    sigma_dist = torch.addcmul(dist_sq, mu_dist, mu_dist, value=-1).clamp_(min=0)
    sigma_cross = torch.addcmul(cross, mu_ref, mu_dist, value=-1)
    gain = sigma_cross / (sigma_ref + EPS)
    noise = torch.addcmul(sigma_dist, gain, sigma_cross, value=-1).clamp_(min=EPS)
    gain.clamp_(min=0).masked_fill_(sigma_dist < EPS, 0)  # flat distorted window: no gain
    sigma_ref.masked_fill_(sigma_ref < EPS, 0)  # flat reference window: no information (and gain² · 0)
    # In place from here: the cost is memory traffic.
    information = gain.square_().mul_(sigma_ref).div_(noise.add_(NOISE_VARIANCE)).add_(1).log10_()
    num = information.sum(dim=(-2, -1))
    den = sigma_ref.div_(NOISE_VARIANCE).add_(1).log10_().sum(dim=(-2, -1))
    return num, den


def _moment_planes(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """[IR, VI, F, IR², VI², F², IR·F, VI·F], written once into one buffer. (B, H, W) each -> (B, 8, H, W)"""
    planes = fused.new_empty(fused.shape[0], 8, *fused.shape[-2:])
    for index, image in enumerate((ir, vi, fused)):
        planes[:, index] = image
    torch.mul(planes[:, :3], planes[:, :3], out=planes[:, 3:6])
    torch.mul(planes[:, :2], planes[:, 2:3], out=planes[:, 6:])
    return planes


def visual_information_fidelity(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    """VIF = VIFp(IR→F) + VIFp(VI→F), 4 scales, 'valid' Gaussian filtering, decimation
    by filtering then keeping every 2nd pixel; NaN (no information) counts as 1.

    Args:
        ir, vi, fused: (B, H, W) in 0..255, H, W ≥ 41 (the 4 scales' windows must fit).
    Returns:
        (B,)
    """
    planes = _moment_planes(ir, vi, fused)  # planes 0, 1: sources; 2: fused
    num = torch.zeros(ir.shape[0], 2, dtype=ir.dtype, device=ir.device)
    den = torch.zeros_like(num)
    for scale in range(1, SCALES + 1):
        size = window_size(scale)
        kernel = gaussian_kernel_1d(size, size / 5, dtype=ir.dtype, device=ir.device)
        if scale > 1:
            planes = _moment_planes(*_filter(planes[:, :3], kernel)[..., ::2, ::2].unbind(1))
        moments = _filter(planes, kernel)
        mu, energy, cross = moments[:, :3], moments[:, 3:6], moments[:, 6:]
        n, d = band_sums(_information_terms, (mu[:, :2], mu[:, 2:], energy[:, :2], energy[:, 2:], cross))
        num += n
        den += d
    per_source = num / den
    per_source = torch.where(torch.isnan(per_source), torch.ones_like(per_source), per_source)
    return per_source.sum(dim=1)
