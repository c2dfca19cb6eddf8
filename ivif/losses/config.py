"""Loss coefficients (the ``train.loss`` section of ``params.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from ivif.losses.weights import DEFAULT_EPS


@dataclass(frozen=True)
class LossConfig:
    """total = alpha·intensity + gradient + beta·SSIM (+ adversarial·L_adv for the GAN).

    Defaults are the paper's α = 1, β = 0.2, λ = 0.01.
    """

    alpha: float = 1.0
    """Weight of the adaptive intensity (L1) term."""
    beta: float = 0.2
    """Weight of the adaptive SSIM term."""
    adversarial: float = 0.01
    """λ, weight of the generator's adversarial term (GAN only)."""
    eps: float = DEFAULT_EPS
    """ε of W(a; a, b) = a / (a + b + ε)."""

    def __post_init__(self) -> None:
        for name in ("alpha", "beta", "adversarial", "eps"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"loss.{name} must be a number >= 0, got {value!r}")
