"""Every registered model honours the fusion contract and trains end to end."""

from __future__ import annotations

import pytest
import torch

from ivif.models import create_discriminator, create_model, list_models

SIZES = [(32, 32), (20, 44), (64, 36)]  # multiples of 4, square and not


@pytest.fixture(scope="module", params=list_models())
def model(request):
    torch.manual_seed(0)
    return create_model(request.param)


@pytest.mark.parametrize("height,width", SIZES)
def test_forward_shape_and_tanh_range(model, height, width):
    x = torch.rand(2, 2, height, width)
    with torch.no_grad():
        y = model.eval()(x)
    assert y.shape == (2, 1, height, width)
    assert y.dtype == torch.float32
    assert torch.isfinite(y).all()
    assert y.abs().max() <= 1.0


def test_outputs_depend_on_both_sources(model):
    torch.manual_seed(1)
    x = torch.rand(1, 2, 16, 16)
    with torch.no_grad():
        base = model.eval()(x)
        for channel in (0, 1):
            changed = x.clone()
            changed[:, channel] = torch.rand(16, 16)
            assert not torch.allclose(model(changed), base)


def test_backward_reaches_every_parameter(model):
    model.train()
    model.zero_grad()
    model(torch.rand(2, 2, 16, 24)).mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert not missing
    # Masked-out entries of the local gates get zero gradient; everything else must learn.
    dead = [name for name, p in model.named_parameters() if p.grad.abs().sum() == 0]
    assert not dead


def test_sizes_not_divisible_by_four_are_rejected_with_the_fix(model):
    with pytest.raises(ValueError, match="multiples of 4.*fuse_full"):
        model(torch.rand(1, 2, 18, 16))


def test_discriminator_scores_each_image():
    discriminator = create_discriminator()
    scores = discriminator(torch.rand(3, 1, 128, 128))
    assert scores.shape == (3, 1)
    scores.sum().backward()
    assert all(p.grad is not None for p in discriminator.parameters())
    with pytest.raises(ValueError, match=r"expects \(B, 1, 128, 128\)"):
        discriminator(torch.rand(1, 1, 64, 64))
