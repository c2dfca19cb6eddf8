"""AG: average gradient magnitude (sharpness)."""

from __future__ import annotations

import torch

from ivif.metrics.conventions import AgNormalisation


def _gradient(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``np.gradient`` along ``dim`` (unit spacing): central differences inside,
    one-sided at the borders. Written straight into one buffer, not ``torch.gradient``
    or a concatenation: same numbers, fewer passes."""
    n = x.shape[dim]
    out = torch.empty_like(x)
    torch.sub(x.narrow(dim, 1, 1), x.narrow(dim, 0, 1), out=out.narrow(dim, 0, 1))
    torch.sub(x.narrow(dim, 2, n - 2), x.narrow(dim, 0, n - 2), out=out.narrow(dim, 1, n - 2)).div_(2)
    torch.sub(x.narrow(dim, n - 1, 1), x.narrow(dim, n - 2, 1), out=out.narrow(dim, n - 1, 1))
    return out


def average_gradient(fused: torch.Tensor, normalisation: AgNormalisation = "pixels") -> torch.Tensor:
    """AG = Σ √((Gx² + Gy²)/2) / n.

    Args:
        fused: (B, H, W), H, W ≥ 2.
        normalisation: ``pixels``: n = H·W; ``interior``: n = (H−1)(W−1) (MATLAB toolboxes).
    Returns:
        (B,)
    """
    height, width = fused.shape[-2:]
    if height < 2 or width < 2:
        raise ValueError(f"AG needs an image of at least 2x2 pixels, got {height}x{width}")
    gy, gx = _gradient(fused, 1), _gradient(fused, 2)
    total = torch.addcmul(gx.mul_(gx), gy, gy).div_(2).sqrt_().sum(dim=(1, 2))
    count = height * width if normalisation == "pixels" else (height - 1) * (width - 1)
    return total / count
