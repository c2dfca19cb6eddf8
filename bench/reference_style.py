"""The reference style: one image at a time, ``scipy.signal.convolve2d``, explicit loops.

A straightforward transcription of the ``cddfuse`` convention's formulas (see
``ivif.metrics.conventions``), written for ``bench/metrics.py`` as the baseline that the
vectorised suite is timed against and cross-checked with. Not used by the library.
All inputs are float64 ``(H, W)`` arrays in 0..255.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import convolve2d

GRAY_LEVELS = 256


def entropy(img: np.ndarray) -> float:
    counts = np.bincount(np.round(img).astype(np.int64).ravel(), minlength=GRAY_LEVELS)
    p = counts[counts > 0] / img.size
    return float(-np.sum(p * np.log2(p)))


def standard_deviation(img: np.ndarray) -> float:
    return float(np.std(img))


def spatial_frequency(img: np.ndarray) -> float:
    return float(np.sqrt(np.mean((img[:, 1:] - img[:, :-1]) ** 2) + np.mean((img[1:, :] - img[:-1, :]) ** 2)))


def average_gradient(img: np.ndarray) -> float:
    gy, gx = np.gradient(img)
    return float(np.mean(np.sqrt((gx**2 + gy**2) / 2)))


def _mutual_information(x: np.ndarray, y: np.ndarray) -> float:
    xi = np.round(x).astype(np.int64).ravel()
    yi = np.round(y).astype(np.int64).ravel()
    joint, _, _ = np.histogram2d(xi, yi, bins=GRAY_LEVELS, range=[[0, GRAY_LEVELS], [0, GRAY_LEVELS]])
    joint /= joint.sum()
    px, py = joint.sum(1), joint.sum(0)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log(joint[nz] / np.outer(px, py)[nz])))


def mutual_information(fused, ir, vi) -> float:
    return _mutual_information(fused, ir) + _mutual_information(fused, vi)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    return float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))


def scd(fused, ir, vi) -> float:
    return _corr(ir, fused - vi) + _corr(vi, fused - ir)


def cc(fused, ir, vi) -> float:
    return (_corr(ir, fused) + _corr(vi, fused)) / 2


def mse(fused, ir, vi) -> float:
    return float((np.mean((ir - fused) ** 2) + np.mean((vi - fused) ** 2)) / 2)


def psnr(fused, ir, vi) -> float:
    return float(10 * np.log10(np.max(fused) ** 2 / mse(fused, ir, vi)))


def _gaussian(n: int, sigma: float) -> np.ndarray:
    r = (n - 1) / 2
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    return h / h.sum()


def _vif(ref: np.ndarray, dist: np.ndarray) -> float:
    sigma_nsq, eps = 2.0, 1e-10
    num = den = 0.0
    for scale in range(1, 5):
        n = 2 ** (5 - scale) + 1
        win = _gaussian(n, n / 5)
        if scale > 1:
            ref = convolve2d(ref, win, mode="valid")[::2, ::2]
            dist = convolve2d(dist, win, mode="valid")[::2, ::2]
        mu1 = convolve2d(ref, win, mode="valid")
        mu2 = convolve2d(dist, win, mode="valid")
        s1 = convolve2d(ref * ref, win, mode="valid") - mu1 * mu1
        s2 = convolve2d(dist * dist, win, mode="valid") - mu2 * mu2
        s12 = convolve2d(ref * dist, win, mode="valid") - mu1 * mu2
        s1[s1 < 0] = 0
        s2[s2 < 0] = 0
        g = s12 / (s1 + eps)
        sv = s2 - g * s12
        g[s1 < eps] = 0
        sv[s1 < eps] = s2[s1 < eps]
        s1[s1 < eps] = 0
        g[s2 < eps] = 0
        sv[s2 < eps] = 0
        sv[g < 0] = s2[g < 0]
        g[g < 0] = 0
        sv[sv <= eps] = eps
        num += np.sum(np.log10(1 + g * g * s1 / (sv + sigma_nsq)))
        den += np.sum(np.log10(1 + s1 / sigma_nsq))
    return float(num / den)


def vif(fused, ir, vi) -> float:
    return _vif(ir, fused) + _vif(vi, fused)


SOBEL_Y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float64)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)


def _edges(img):
    sx = convolve2d(img, SOBEL_X, mode="same")
    sy = convolve2d(img, SOBEL_Y, mode="same")
    g = np.sqrt(sx * sx + sy * sy)
    a = np.full_like(img, math.pi / 2)
    nz = sx != 0
    a[nz] = np.arctan(sy[nz] / sx[nz])
    return g, a


def _edge_preservation(ga, aa, gf, af):
    ratio = np.where(ga > gf, gf / np.where(ga > gf, ga, 1), np.where(ga < gf, ga / np.where(ga < gf, gf, 1), gf))
    align = 1 - np.abs(aa - af) / (math.pi / 2)
    qg = 0.9994 / (1 + np.exp(-15 * (ratio - 0.5)))
    qa = 0.9879 / (1 + np.exp(-22 * (align - 0.8)))
    return qg * qa


def qabf(fused, ir, vi) -> float:
    ga, aa = _edges(ir)
    gb, ab = _edges(vi)
    gf, af = _edges(fused)
    qaf = _edge_preservation(ga, aa, gf, af)
    qbf = _edge_preservation(gb, ab, gf, af)
    return float(np.sum(qaf * ga + qbf * gb) / np.sum(ga + gb))


def _ssim(x, y, data_range=2.0, win=7):
    pad = win // 2
    box = np.full((win, win), 1.0 / win**2)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    cov_norm = win**2 / (win**2 - 1)

    def filt(z):
        return convolve2d(np.pad(z, pad, mode="symmetric"), box, mode="valid")

    ux, uy = filt(x), filt(y)
    vx = cov_norm * (filt(x * x) - ux * ux)
    vy = cov_norm * (filt(y * y) - uy * uy)
    vxy = cov_norm * (filt(x * y) - ux * uy)
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return float(s[pad:-pad, pad:-pad].mean())


def ssim(fused, ir, vi) -> float:
    return _ssim(fused, ir) + _ssim(fused, vi)


def all_metrics(ir: np.ndarray, vi: np.ndarray, fused: np.ndarray) -> dict[str, float]:
    """Every metric of the suite for one image, the reference way."""
    return {
        "EN": entropy(fused),
        "SD": standard_deviation(fused),
        "SF": spatial_frequency(fused),
        "AG": average_gradient(fused),
        "MI": mutual_information(fused, ir, vi),
        "SCD": scd(fused, ir, vi),
        "VIF": vif(fused, ir, vi),
        "Qabf": qabf(fused, ir, vi),
        "SSIM": ssim(fused, ir, vi),
        "CC": cc(fused, ir, vi),
        "PSNR": psnr(fused, ir, vi),
        "MSE": mse(fused, ir, vi),
    }
