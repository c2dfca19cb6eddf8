"""Separable 2-D correlation of image stacks, the workhorse of VIF, SSIM and Qabf.

Every window used by the metric suite (Gaussian, box, Sobel) is an outer product of two
1-D kernels, so filtering costs N+M instead of N·M multiply-adds per pixel. On CPU the
passes run in OpenCV's SIMD ``sepFilter2D`` on zero-copy NumPy views (several times
faster than a convolution in torch for float64); elsewhere (CUDA) in ``conv2d``. Both
compute the same sums; tests check they agree. Short kernels (Sobel) run as shifted
adds on every device: that keeps integer images' gradients exact, which matters
because Qabf compares them with ``==``.

All functions *correlate* (no kernel flip), like ``scipy.ndimage.correlate``; the
reference evaluators' ``convolve2d`` calls are correlations with the flipped kernel,
and the kernels here are given already flipped where it matters.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import torch
import torch.nn.functional as F

Border = Literal["valid", "zeros", "symmetric"]
"""``valid``: only windows fully inside (output shrinks by kernel−1); ``zeros``: same
size, zero padding (``convolve2d(mode='same')``); ``symmetric``: same size, mirror with
the edge repeated (``scipy.ndimage`` 'reflect', NumPy 'symmetric')."""

SHORT_KERNEL = 3  # kernels up to this length run as exact shifted adds

_CV2_BORDER = {"valid": cv2.BORDER_CONSTANT, "zeros": cv2.BORDER_CONSTANT, "symmetric": cv2.BORDER_REFLECT}


def gaussian_kernel_1d(size: int, sigma: float, dtype=torch.float64, device=None) -> torch.Tensor:
    """Normalised 1-D Gaussian of odd ``size``; its outer product with itself is MATLAB's
    ``fspecial('gaussian', size, sigma)``.

    Returns: (size,)
    """
    radius = (size - 1) / 2
    x = torch.arange(size, dtype=dtype, device=device) - radius
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def box_kernel_1d(size: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """Uniform 1-D window. Returns: (size,)"""
    return torch.full((size,), 1.0 / size, dtype=dtype, device=device)


def separable_correlate(
    x: torch.Tensor, kernel_y: torch.Tensor, kernel_x: torch.Tensor, border: Border = "valid"
) -> torch.Tensor:
    """Correlate every (H, W) plane of ``x`` with the window ``outer(kernel_y, kernel_x)``.

    Args:
        x: (..., H, W) floating tensor.
        kernel_y: (Ky,) odd-length kernel along H.
        kernel_x: (Kx,) odd-length kernel along W.
        border: see ``Border``.

    Returns:
        (..., H, W), or (..., H−Ky+1, W−Kx+1) for ``valid``.
    """
    ky, kx = kernel_y.numel(), kernel_x.numel()
    if ky % 2 == 0 or kx % 2 == 0:
        raise ValueError(f"kernels must have odd length, got {ky} and {kx}")
    if border == "valid" and (x.shape[-2] < ky or x.shape[-1] < kx):
        raise ValueError(f"image {tuple(x.shape[-2:])} is smaller than the {ky}x{kx} window")
    if max(ky, kx) <= SHORT_KERNEL:
        return _correlate_shifted(x, kernel_y, kernel_x, border)
    if x.device.type == "cpu":
        return _correlate_opencv(x, kernel_y, kernel_x, border)
    return _correlate_torch(x, kernel_y, kernel_x, border)


def _correlate_opencv(x: torch.Tensor, kernel_y: torch.Tensor, kernel_x: torch.Tensor, border: Border) -> torch.Tensor:
    planes = x.detach().reshape(-1, *x.shape[-2:]).contiguous().numpy()
    ky = kernel_y.detach().to(x.dtype).numpy()
    kx = kernel_x.detach().to(x.dtype).numpy()
    depth = cv2.CV_64F if planes.dtype == np.float64 else cv2.CV_32F
    out = np.stack([cv2.sepFilter2D(p, depth, kx, ky, borderType=_CV2_BORDER[border]) for p in planes])
    if border == "valid":
        ry, rx = ky.size // 2, kx.size // 2
        out = out[:, ry : out.shape[1] - ry, rx : out.shape[2] - rx]
    return torch.from_numpy(np.ascontiguousarray(out)).reshape(*x.shape[:-2], *out.shape[-2:])


def _pad(x: torch.Tensor, ry: int, rx: int, border: Border) -> torch.Tensor:
    if border == "zeros":
        return F.pad(x, (rx, rx, ry, ry))
    if border == "symmetric":
        return _symmetric_pad(x, ry, rx)
    return x


def _correlate_shifted(x: torch.Tensor, kernel_y: torch.Tensor, kernel_x: torch.Tensor, border: Border) -> torch.Tensor:
    """Σ_k w_k · (x shifted by k), one axis after the other; zero taps are skipped."""
    x = _pad(x, kernel_y.numel() // 2, kernel_x.numel() // 2, border)
    for dim, kernel in ((-1, kernel_x), (-2, kernel_y)):
        taps = kernel.tolist()
        length = x.shape[dim] - len(taps) + 1
        out = None
        for offset, weight in enumerate(taps):
            if weight == 0:
                continue
            term = x.narrow(dim, offset, length) * weight
            out = term if out is None else out + term
        x = out if out is not None else torch.zeros_like(x.narrow(dim, 0, length))
    return x


def _symmetric_pad(x: torch.Tensor, ry: int, rx: int) -> torch.Tensor:
    """Mirror-pad (edge repeated) the last two dims by ry rows and rx columns."""
    x = torch.cat([x[..., :ry, :].flip(-2), x, x[..., x.shape[-2] - ry :, :].flip(-2)], dim=-2)
    return torch.cat([x[..., :rx].flip(-1), x, x[..., x.shape[-1] - rx :].flip(-1)], dim=-1)


def _correlate_torch(x: torch.Tensor, kernel_y: torch.Tensor, kernel_x: torch.Tensor, border: Border) -> torch.Tensor:
    lead = x.shape[:-2]
    planes = x.reshape(-1, 1, *x.shape[-2:])
    planes = _pad(planes, kernel_y.numel() // 2, kernel_x.numel() // 2, border)
    ky = kernel_y.to(x).view(1, 1, -1, 1)
    kx = kernel_x.to(x).view(1, 1, 1, -1)
    out = F.conv2d(F.conv2d(planes, kx), ky)
    return out.reshape(*lead, *out.shape[-2:])
