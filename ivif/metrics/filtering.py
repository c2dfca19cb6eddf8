"""Separable 2-D correlation of image stacks, the workhorse of VIF, SSIM and Qabf.

Every window used by the metric suite (Gaussian, box, Sobel) is an outer product of two
1-D kernels, so filtering costs N+M instead of N·M multiply-adds per pixel. On CPU the
passes run in OpenCV's SIMD ``sepFilter2D`` on zero-copy NumPy views (several times
faster than a convolution in torch for float64); elsewhere (CUDA) in ``conv2d``. Both
compute the same sums; tests check they agree. On integer images with integer kernels
(Sobel) every partial sum is a small integer, so both are exact, as Qabf needs: it
compares gradient strengths with ``==``.

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


def separable_correlate(x: torch.Tensor, kernel_y: torch.Tensor, kernel_x: torch.Tensor, border: Border = "valid") -> torch.Tensor:
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
    if x.device.type == "cpu":
        return _correlate_opencv(x, kernel_y, kernel_x, border)
    return _correlate_torch(x, kernel_y, kernel_x, border)


def _opencv_planes(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(..., H, W) tensor -> contiguous (N, H, W) NumPy planes (a view when possible) and
    an output array of the same shape for OpenCV to write into (no stacking copies)."""
    planes = x.detach().reshape(-1, *x.shape[-2:]).contiguous().numpy()
    return planes, np.empty_like(planes)


def _crop_valid(out: np.ndarray, ry: int, rx: int, lead: torch.Size) -> torch.Tensor:
    """The 'valid' part of same-size results, as a view. (N, H, W) -> (*lead, H−2ry, W−2rx)"""
    result = torch.from_numpy(out)
    if ry or rx:
        result = result[:, ry : out.shape[1] - ry, rx : out.shape[2] - rx]
    return result.view(*lead, *result.shape[-2:])  # splitting the outer dim is always a view


def _correlate_opencv(x: torch.Tensor, kernel_y: torch.Tensor, kernel_x: torch.Tensor, border: Border) -> torch.Tensor:
    planes, out = _opencv_planes(x)
    ky = kernel_y.detach().to(x.dtype).numpy()
    kx = kernel_x.detach().to(x.dtype).numpy()
    depth = cv2.CV_64F if planes.dtype == np.float64 else cv2.CV_32F
    for plane, result in zip(planes, out):
        cv2.sepFilter2D(plane, depth, kx, ky, dst=result, borderType=_CV2_BORDER[border])
    radius_y, radius_x = (ky.size // 2, kx.size // 2) if border == "valid" else (0, 0)
    return _crop_valid(out, radius_y, radius_x, x.shape[:-2])


def box_filter(x: torch.Tensor, size: int, border: Border = "symmetric") -> torch.Tensor:
    """Mean over a size×size window, same as ``separable_correlate`` with box kernels.

    On CPU this is OpenCV's running-sum ``boxFilter`` (cost independent of ``size``).

    Args:
        x: (..., H, W) floating tensor.
    Returns:
        (..., H, W), or (..., H−size+1, W−size+1) for ``valid``.
    """
    if size % 2 == 0:
        raise ValueError(f"box window must have odd size, got {size}")
    if x.device.type != "cpu":
        box = box_kernel_1d(size, dtype=x.dtype, device=x.device)
        return separable_correlate(x, box, box, border)
    planes, out = _opencv_planes(x)
    depth = cv2.CV_64F if planes.dtype == np.float64 else cv2.CV_32F
    for plane, result in zip(planes, out):
        cv2.boxFilter(plane, depth, (size, size), dst=result, normalize=True, borderType=_CV2_BORDER[border])
    radius = size // 2 if border == "valid" else 0
    return _crop_valid(out, radius, radius, x.shape[:-2])


def _pad(x: torch.Tensor, ry: int, rx: int, border: Border) -> torch.Tensor:
    if border == "zeros":
        return F.pad(x, (rx, rx, ry, ry))
    if border == "symmetric":
        return _symmetric_pad(x, ry, rx)
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
