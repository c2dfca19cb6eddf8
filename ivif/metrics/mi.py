"""MI: mutual information between the fused image and each source, summed."""

from __future__ import annotations

import math

import torch

from ivif.metrics.histogram import entropy_of, histogram, joint_histogram, quantize, saturating_add


def _pair_mi(source: torch.Tensor, fused: torch.Tensor, fused_entropy: torch.Tensor, log_base: float, joint_offset: int) -> torch.Tensor:
    """MI from gray levels (B, N) and the fused marginal entropy (B,). -> (B,)"""
    joint = joint_histogram(saturating_add(source, joint_offset), saturating_add(fused, joint_offset))
    return entropy_of(histogram(source), log_base) + fused_entropy - entropy_of(joint, log_base)


def pair_mutual_information(source: torch.Tensor, fused: torch.Tensor, log_base: float = math.e, joint_offset: int = 0) -> torch.Tensor:
    """MI(S;F) = H(S) + H(F) − H(S,F) from gray-level histograms.

    With ``joint_offset`` 0 this is the plug-in MI of the joint histogram (scikit-learn's
    ``mutual_info_score``). A positive offset is added to both images, saturating at 255,
    for the joint histogram only, reproducing Tang's MATLAB toolbox.

    Args:
        source, fused: (B, H, W) in 0..255.
    Returns:
        (B,) in units of ``log_base`` (e: nats, 2: bits).
    """
    f = quantize(fused)
    return _pair_mi(quantize(source), f, entropy_of(histogram(f), log_base), log_base, joint_offset)


def mutual_information(
    ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor, log_base: float = math.e, joint_offset: int = 0
) -> torch.Tensor:
    """MI = MI(IR;F) + MI(VI;F). Shapes: (B, H, W) each -> (B,)."""
    f = quantize(fused)
    fused_entropy = entropy_of(histogram(f), log_base)
    return _pair_mi(quantize(ir), f, fused_entropy, log_base, joint_offset) + _pair_mi(
        quantize(vi), f, fused_entropy, log_base, joint_offset
    )
