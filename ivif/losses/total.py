"""The paper's total fusion loss: α·intensity + gradient + β·SSIM.

The GAN's adversarial term (λ·L_adv) is added by :mod:`ivif.training.gan`, which owns
the discriminator; :func:`fusion_loss` is the part every model shares.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ivif.losses.config import LossConfig
from ivif.losses.gradient import gradient_loss
from ivif.losses.intensity import intensity_loss
from ivif.losses.ssim import ssim_loss


class LossTerms(NamedTuple):
    """The total loss and its (unweighted) components, all scalar tensors."""

    total: torch.Tensor
    intensity: torch.Tensor
    gradient: torch.Tensor
    ssim: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        """Detached Python floats for logging, keyed ``loss/<term>``."""
        return {f"loss/{name}": float(value.detach()) for name, value in self._asdict().items()}


def fusion_loss(fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor, config: LossConfig = LossConfig()) -> LossTerms:
    """α·L_int + L_grad + β·L_ssim with the adaptive weights of every term.

    Args:
        fused: (B, 1, H, W) model output (tanh, used as is; see :mod:`ivif.losses`).
        ir, vi: (B, 1, H, W) sources in [0, 1]; H, W >= 11 for the SSIM term.
        config: coefficients α, β and ε.

    Returns:
        :class:`LossTerms` with the weighted total and the raw components.
    """
    intensity = intensity_loss(fused, ir, vi, config.eps)
    gradient = gradient_loss(fused, ir, vi, config.eps)
    structural = ssim_loss(fused, ir, vi, config.eps)
    total = config.alpha * intensity + gradient + config.beta * structural
    return LossTerms(total, intensity, gradient, structural)


class FusionLoss(nn.Module):
    """Module form of :func:`fusion_loss`."""

    def __init__(self, config: LossConfig = LossConfig()):
        super().__init__()
        self.config = config

    def forward(self, fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor) -> LossTerms:
        return fusion_loss(fused, ir, vi, self.config)
