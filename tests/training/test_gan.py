"""LSGAN losses by hand, and both networks learning on a fixed batch."""

from __future__ import annotations

import pytest
import torch

from ivif.models import create_discriminator, create_model
from ivif.training.gan import Adversary, discriminator_loss, generator_adversarial_loss, real_examples

PATCH = 32
CONSTANT_SCORE_LOSS = 0.25  # LSGAN loss of D ≡ ½ on any real/fake mix


def test_lsgan_losses_hand_computed():
    real, fake = torch.tensor([[1.0], [0.0]]), torch.tensor([[0.5]])
    # ½·mean((1−1)², (0−1)²) + ½·0.5² = ½·0.5 + ½·0.25
    assert discriminator_loss(real, fake).item() == pytest.approx(0.375)
    assert generator_adversarial_loss(fake).item() == pytest.approx(0.5 * 0.25)
    perfect = discriminator_loss(torch.ones(3, 1), torch.zeros(3, 1))
    assert perfect.item() == 0.0


def test_real_examples_are_both_sources():
    ir, vi = torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4)
    real = real_examples(ir, vi)
    assert real.shape == (4, 1, 4, 4) and real[:2].sum() == 0 and real[2:].mean() == 1


def _batch():
    generator = torch.Generator().manual_seed(0)
    ir = torch.rand(4, 1, PATCH, PATCH, generator=generator)
    vi = torch.rand(4, 1, PATCH, PATCH, generator=generator)
    return ir, vi


def test_discriminator_learns_on_a_fixed_batch():
    torch.manual_seed(0)
    ir, vi = _batch()
    fused = 0.5 * (ir + vi)  # a blurry "fusion": distinguishable from the sources
    adversary = Adversary(create_discriminator(image_size=PATCH), lr=1e-3, betas=(0.5, 0.999))
    losses = [adversary.discriminator_step(ir, vi, fused).item() for _ in range(40)]
    # 0.25 is what a constant score of ½ gets: the discriminator must beat it clearly.
    assert sum(losses[-5:]) / 5 < 0.5 * CONSTANT_SCORE_LOSS < losses[0], losses


def test_generator_adversarial_term_moves_against_a_fixed_discriminator():
    torch.manual_seed(0)
    ir, vi = _batch()
    generator = create_model("gan")
    adversary = Adversary(create_discriminator(image_size=PATCH), lr=1e-3, betas=(0.5, 0.999))
    x = torch.cat([ir, vi], dim=1)
    for _ in range(10):  # a discriminator that has learnt something
        adversary.discriminator_step(ir, vi, generator(x))
    frozen = {k: v.clone() for k, v in adversary.discriminator.state_dict().items()}
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
    terms = []
    for _ in range(15):
        loss = adversary.generator_loss(generator(x))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        terms.append(loss.item())
    assert terms[-1] < 0.7 * terms[0], terms
    # The generator's update leaves the discriminator untouched and gradient-free.
    assert all(torch.equal(frozen[k], v) for k, v in adversary.discriminator.state_dict().items())
    assert not any(p.requires_grad for p in adversary.discriminator.parameters())


def test_adversary_state_round_trip():
    first = Adversary(create_discriminator(image_size=16), lr=1e-3, betas=(0.5, 0.999))
    ir, vi = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    first.discriminator_step(ir, vi, 0.5 * (ir + vi))
    second = Adversary(create_discriminator(image_size=16), lr=1e-3, betas=(0.5, 0.999))
    second.load_state_dict(first.state_dict())
    for a, b in zip(first.discriminator.parameters(), second.discriminator.parameters()):
        assert torch.equal(a, b)
    assert second.optimizer.state_dict()["state"].keys() == first.optimizer.state_dict()["state"].keys()
