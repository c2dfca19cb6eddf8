"""Adversarial training of the GAN baseline (the paper's code has no such loop).

Formulation, and why:

* **What the discriminator compares.** Real examples are the *source patches
  themselves*, IR and visible alike; fake examples are the fused patches. The fused
  image should look like a real sensor image (sharp edges, natural texture statistics)
  rather than the blur that L1 regression drifts towards, and it should not prefer
  one modality: the pixel losses already decide, through W(a; a, b), which source
  dominates where. Two alternatives were rejected: the W-weighted pixel target as "real"
  duplicates the intensity term, and under UPTP/APTP that target is a per-pixel mix of
  two unrelated scenes, not a natural image; visible-only "real" examples (FusionGAN)
  pull every region towards visible texture against the adaptive weighting.
* **Which loss.** Least squares (LSGAN, Mao et al. 2017) on the discriminator's raw
  linear score: D minimises ½E[(D(x) − 1)²] + ½E[D(F)²], the generator adds
  λ·½E[(D(F) − 1)²] with λ = 0.01 to its fusion loss. With a linear head, least
  squares needs no sigmoid and keeps giving the generator gradients when D is
  confident, where the saturating log loss vanishes.
* **Schedule.** One discriminator step per generator step, on the same batch, D
  first (on the detached fused patch), then the generator against the updated D.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

REAL_TARGET = 1.0
FAKE_TARGET = 0.0


def discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """LSGAN discriminator loss ½E[(D(x) − 1)²] + ½E[D(F)²].

    Args:
        real_scores: (N, 1) scores of real patches.
        fake_scores: (M, 1) scores of fused patches.

    Returns:
        scalar tensor; 0 for a perfect discriminator.
    """
    return 0.5 * ((real_scores - REAL_TARGET) ** 2).mean() + 0.5 * ((fake_scores - FAKE_TARGET) ** 2).mean()


def generator_adversarial_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """LSGAN generator term ½E[(D(F) − 1)²]; ``fake_scores`` (M, 1) -> scalar."""
    return 0.5 * ((fake_scores - REAL_TARGET) ** 2).mean()


def real_examples(ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
    """The discriminator's real patches: both sources, (B, 1, H, W) ×2 -> (2B, 1, H, W)."""
    return torch.cat([ir, vi])


class Adversary:
    """The discriminator, its optimizer and the two LSGAN updates.

    Args:
        discriminator: module mapping (N, 1, H, W) patches to (N, 1) scores.
        lr, betas: its Adam settings.
    """

    def __init__(self, discriminator: nn.Module, lr: float, betas: tuple[float, float]):
        self.discriminator = discriminator
        self.optimizer = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=tuple(betas))

    def discriminator_step(self, ir: torch.Tensor, vi: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
        """One D update on real sources vs the detached fused batch; returns the loss (detached).

        Real and fake patches go through D in one forward pass: one pass per backward is
        what DDP's gradient reducer expects.
        """
        self.discriminator.requires_grad_(True)
        self.optimizer.zero_grad(set_to_none=True)
        real = real_examples(ir, vi)
        scores = self.discriminator(torch.cat([real, fused.detach().to(real.dtype)])).float()
        loss = discriminator_loss(scores[: len(real)], scores[len(real) :])
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def generator_loss(self, fused: torch.Tensor) -> torch.Tensor:
        """The generator's adversarial term against the current D (D's weights frozen).

        Runs the unwrapped discriminator: under DDP, D's parameters get no gradient
        here, and going through the DDP wrapper would make it wait for them.
        """
        self.discriminator.requires_grad_(False)
        return generator_adversarial_loss(self._module(fused).float())

    @property
    def _module(self) -> nn.Module:
        return getattr(self.discriminator, "module", self.discriminator)  # unwrap DDP

    def state_dict(self) -> dict[str, Any]:
        return {"discriminator": self._module.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._module.load_state_dict(state["discriminator"])
        self.optimizer.load_state_dict(state["optimizer"])
