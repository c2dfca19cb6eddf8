"""The adaptive source weight W(a; a, b) = a / (a + b + eps).

It is the only thing that ties a fused pixel to its two sources, and it needs no
registration between them: wherever one source is brighter (or has the stronger edge,
or the higher structural similarity) it gets the larger share.
"""

from __future__ import annotations

import torch

# Keeps W finite where both sources are zero (black pixels, flat regions); small enough
# that W(a)+W(b) = 1 to float32 precision wherever a + b is a visible intensity.
DEFAULT_EPS = 1e-8


def _check_shapes(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"adaptive weights need equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")


def adaptive_weight(a: torch.Tensor, b: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """W(a; a, b) = a / (a + b + eps), elementwise.

    Args:
        a: (*) non-negative tensor (the source whose weight is wanted).
        b: (*) non-negative tensor of the same shape (the other source).
        eps: keeps the ratio finite where ``a + b == 0`` (W is then 0).

    Returns:
        (*) tensor in [0, 1).
    """
    _check_shapes(a, b)
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    return a / (a + b + eps)


def adaptive_weights(a: torch.Tensor, b: torch.Tensor, eps: float = DEFAULT_EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Both weights ``(W(a; a, b), W(b; b, a))``, computed with one shared denominator.

    Shapes as :func:`adaptive_weight`; the two weights sum to ``(a + b) / (a + b + eps)``.
    """
    _check_shapes(a, b)
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    denominator = a + b + eps
    return a / denominator, b / denominator


def weighted_target(a: torch.Tensor, b: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """The adaptive mix ``W(a; a, b)·a + W(b; b, a)·b`` = (a² + b²) / (a + b + eps).

    Shapes as :func:`adaptive_weight`. This is the per-pixel target of the intensity and
    gradient terms.
    """
    w_a, w_b = adaptive_weights(a, b, eps)
    return w_a * a + w_b * b
