"""MI: mutual information between the fused image and each source, summed."""

from __future__ import annotations

import math

import torch

from ivif.metrics.histogram import entropy_of, histogram, joint_histogram, quantize


def pair_mutual_information(
    source: torch.Tensor, fused: torch.Tensor, log_base: float = math.e, joint_offset: int = 0
) -> torch.Tensor:
    """MI(S;F) = H(S) + H(F) − H(S,F) from gray-level histograms.

    With ``joint_offset`` 0 this is the plug-in MI of the joint histogram (scikit-learn's
    ``mutual_info_score``). A positive offset is added to both images, saturating at 255,
    for the joint histogram only, reproducing Tang's MATLAB toolbox.

    Args:
        source, fused: (B, H, W) in 0..255.
    Returns:
        (B,) in units of ``log_base`` (e: nats, 2: bits).
    """
    s, f = quantize(source), quantize(fused)
    joint = joint_histogram(quantize(source, joint_offset), quantize(fused, joint_offset))
    return (
        entropy_of(histogram(s), log_base) + entropy_of(histogram(f), log_base) - entropy_of(joint, log_base)
    )


def mutual_information(
    ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor, log_base: float = math.e, joint_offset: int = 0
) -> torch.Tensor:
    """MI = MI(IR;F) + MI(VI;F). Shapes: (B, H, W) each -> (B,)."""
    return pair_mutual_information(ir, fused, log_base, joint_offset) + pair_mutual_information(
        vi, fused, log_base, joint_offset
    )
