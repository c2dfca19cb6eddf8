"""The metric suite: every metric under one convention, for a batch or one image.

``METRICS`` is the registry: name -> function(ir, vi, fused, convention) on (B, H, W)
tensors returning (B,). The convention supplies each metric's choices; no metric has a
per-convention code path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from ivif.metrics.ag import average_gradient
from ivif.metrics.cc import correlation_coefficient
from ivif.metrics.conventions import DEFAULT_CONVENTION, Convention, get_convention
from ivif.metrics.entropy import entropy
from ivif.metrics.mi import mutual_information
from ivif.metrics.mse import mean_squared_error
from ivif.metrics.names import ALL_METRICS
from ivif.metrics.psnr import peak_signal_to_noise_ratio
from ivif.metrics.qabf import qabf
from ivif.metrics.scd import sum_of_correlations_of_differences
from ivif.metrics.sd import standard_deviation
from ivif.metrics.sf import spatial_frequency
from ivif.metrics.ssim import ssim_sum
from ivif.metrics.vif import visual_information_fidelity

MetricFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, Convention], torch.Tensor]

METRICS: dict[str, MetricFn] = {
    "EN": lambda ir, vi, f, c: entropy(f),
    "SD": lambda ir, vi, f, c: standard_deviation(f),
    "SF": lambda ir, vi, f, c: spatial_frequency(f, c.sf_scale),
    "AG": lambda ir, vi, f, c: average_gradient(f, c.ag_normalisation),
    "MI": lambda ir, vi, f, c: mutual_information(ir, vi, f, c.mi_log_base, c.mi_joint_offset),
    "SCD": lambda ir, vi, f, c: sum_of_correlations_of_differences(ir, vi, f),
    "VIF": lambda ir, vi, f, c: visual_information_fidelity(ir, vi, f),
    "Qabf": lambda ir, vi, f, c: qabf(ir, vi, f),
    "SSIM": lambda ir, vi, f, c: ssim_sum(ir, vi, f, c.ssim_data_range),
    "CC": lambda ir, vi, f, c: correlation_coefficient(ir, vi, f),
    "PSNR": lambda ir, vi, f, c: peak_signal_to_noise_ratio(ir, vi, f, c.psnr_peak, c.mse_intensity_scale),
    "MSE": lambda ir, vi, f, c: mean_squared_error(ir, vi, f, c.mse_intensity_scale),
}
if tuple(METRICS) != ALL_METRICS:  # the names are owned by ivif.metrics.names
    raise ImportError(f"ivif.metrics.suite registers {tuple(METRICS)} but ivif.metrics.names lists {ALL_METRICS}")
METRIC_NAMES: tuple[str, ...] = ALL_METRICS
"""All metric names, in report column order (the nine standard ones first)."""


def resolve_names(names: Iterable[str] | None) -> Sequence[str]:
    """The metrics to compute, in the given order (all by default); unknown names fail."""
    if names is None:
        return METRIC_NAMES
    names = list(names)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(METRIC_NAMES)}")
    return names


def _check_batch(ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> None:
    if not (ir.shape == vi.shape == fused.shape):
        raise ValueError(
            f"shape mismatch: ir {tuple(ir.shape)}, vi {tuple(vi.shape)}, fused {tuple(fused.shape)}; "
            "the three images must be registered and the same size"
        )
    if ir.ndim != 3:
        raise ValueError(f"expected (B, H, W) gray batches, got shape {tuple(ir.shape)}")


@torch.no_grad()
def compute_metrics_batch(
    ir: torch.Tensor,
    vi: torch.Tensor,
    fused: torch.Tensor,
    convention: str | Convention = DEFAULT_CONVENTION,
    names: Iterable[str] | None = None,
    dtype: torch.dtype | None = torch.float64,
) -> dict[str, torch.Tensor]:
    """Metrics of each image in a batch, on the tensors' device.

    Intensities are 0..255 (multiply [0, 1] network outputs by 255). EN and MI count
    rounded gray levels.

    Args:
        ir, vi, fused: (B, H, W), same shape and device.
        convention: a name in ``CONVENTIONS`` or a ``Convention``.
        names: metrics to compute (default: all, ``METRIC_NAMES``).
        dtype: computation dtype. float64 (default) reproduces the reference
            evaluators; None keeps a floating input's dtype: float32 is about 2x faster
            on GPU but approximate (local variances E[x²]−μ² lose digits; SSIM, whose
            constants are tiny under ``cddfuse``, can be off by a few % on flat areas).
    Returns:
        name -> (B,) tensor.
    """
    conv = get_convention(convention)
    selected = resolve_names(names)
    _check_batch(ir, vi, fused)
    if dtype is None:
        dtype = fused.dtype if fused.is_floating_point() else torch.float64
    ir, vi, fused = (t.to(dtype) for t in (ir, vi, fused))
    if fused.device.type == "cpu" and fused.shape[0] > 1:
        # On CPU a batch is slower than its images one by one: its full-size temporaries
        # fall out of cache and are page-faulted afresh by every operation.
        per_image = [
            {name: METRICS[name](ir[i : i + 1], vi[i : i + 1], fused[i : i + 1], conv) for name in selected} for i in range(fused.shape[0])
        ]
        return {name: torch.cat([values[name] for values in per_image]) for name in selected}
    return {name: METRICS[name](ir, vi, fused, conv) for name in selected}


def compute_metrics(
    ir: np.ndarray,
    vi: np.ndarray,
    fused: np.ndarray,
    convention: str | Convention = DEFAULT_CONVENTION,
    names: Iterable[str] | None = None,
) -> dict[str, float]:
    """Metrics of one fused image, computed in float64.

    Args:
        ir, vi, fused: (H, W) arrays, 0..255 (see ``ivif.metrics.reading`` to load files
            the way a convention does).
        convention: a name in ``CONVENTIONS`` or a ``Convention``.
        names: metrics to compute (default: all, ``METRIC_NAMES``).
    Returns:
        name -> value.
    """
    arrays = [np.asarray(a) for a in (ir, vi, fused)]
    if not (arrays[0].shape == arrays[1].shape == arrays[2].shape):
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(("ir", "vi", "fused"), arrays))
        raise ValueError(f"shape mismatch: {shapes}; the three images must be registered and the same size")
    if arrays[0].ndim != 2:
        raise ValueError(f"expected (H, W) gray images, got shape {arrays[0].shape}")
    batch = [torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))[None] for a in arrays]
    values = compute_metrics_batch(*batch, convention=convention, names=names)
    return {name: float(v[0]) for name, v in values.items()}
