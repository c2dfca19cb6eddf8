"""EN: Shannon entropy of the fused image's gray levels, in bits."""

from __future__ import annotations

import torch

from ivif.metrics.histogram import entropy_of, histogram, quantize


def entropy(fused: torch.Tensor) -> torch.Tensor:
    """EN = −Σ p(l)·log2 p(l) over the 256 gray levels.

    Args:
        fused: (B, H, W) in 0..255 (rounded to gray levels).
    Returns:
        (B,) bits; 0 for a constant image.
    """
    return entropy_of(histogram(quantize(fused)), log_base=2.0)
