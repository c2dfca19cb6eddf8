import pytest
import torch

from ivif.losses import FusionLoss, LossConfig, fusion_loss, gradient_loss, intensity_loss, ssim_loss


def test_total_is_the_weighted_sum():
    ir, vi, f = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    config = LossConfig(alpha=2.0, beta=0.5)
    terms = fusion_loss(f, ir, vi, config)
    expected = 2.0 * intensity_loss(f, ir, vi) + gradient_loss(f, ir, vi) + 0.5 * ssim_loss(f, ir, vi)
    torch.testing.assert_close(terms.total, expected)
    assert set(terms.as_floats()) == {"loss/total", "loss/intensity", "loss/gradient", "loss/ssim"}
    torch.testing.assert_close(FusionLoss(config)(f, ir, vi).total, terms.total)


def test_paper_defaults():
    config = LossConfig()
    assert (config.alpha, config.beta, config.adversarial) == (1.0, 0.2, 0.01)


def test_zero_when_sources_and_output_agree():
    x = torch.rand(1, 1, 16, 16)
    assert fusion_loss(x, x, x).total.item() == pytest.approx(0.0, abs=1e-5)


def test_backward_reaches_input():
    f = torch.rand(1, 1, 16, 16, requires_grad=True)
    fusion_loss(f, torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16)).total.backward()
    assert f.grad is not None and torch.isfinite(f.grad).all() and f.grad.abs().sum() > 0


@pytest.mark.parametrize("key", ["alpha", "beta", "adversarial", "eps"])
def test_config_rejects_negative(key):
    with pytest.raises(ValueError, match=f"loss.{key}"):
        LossConfig(**{key: -1.0})
