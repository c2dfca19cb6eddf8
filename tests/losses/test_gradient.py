import pytest
import torch

from ivif.losses import GradientLoss, gradient_loss, sobel_magnitude


def test_step_edge_hand_computed():
    # Columns 0 0 1 1: at columns 1 and 2 |Gx| = 1 + 2 + 1 = 4, Gy = 0 → 4/6;
    # replicate padding keeps the outer columns flat.
    image = torch.tensor([0.0, 0.0, 1.0, 1.0]).repeat(4, 1).view(1, 1, 4, 4)
    expected = torch.tensor([0.0, 4 / 6, 4 / 6, 0.0]).repeat(4, 1).view(1, 1, 4, 4)
    torch.testing.assert_close(sobel_magnitude(image), expected)


def test_normalisation_reaches_exactly_one():
    # The corner pattern that maximises |Gx| + |Gy| = 3 + 3 on a [0, 1] image.
    image = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0]]).view(1, 1, 3, 3)
    assert sobel_magnitude(image)[0, 0, 1, 1].item() == pytest.approx(1.0)


def test_range_on_random_images():
    magnitude = sobel_magnitude(torch.rand(4, 1, 32, 32))
    assert magnitude.min() >= 0 and magnitude.max() <= 1


def test_flat_image_has_no_gradient():
    assert torch.count_nonzero(sobel_magnitude(torch.full((1, 1, 5, 7), 0.3))) == 0


def test_copying_the_only_textured_source_costs_nothing():
    ir = torch.rand(2, 1, 16, 16)
    vi = torch.full_like(ir, 0.5)  # flat: M(vi) = 0, so the target is M(ir)
    assert gradient_loss(ir, ir, vi).item() == pytest.approx(0.0, abs=1e-6)
    assert gradient_loss(vi, ir, vi).item() > 0.05


def test_symmetric_and_module():
    ir, vi, f = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(gradient_loss(f, ir, vi), gradient_loss(f, vi, ir))
    torch.testing.assert_close(GradientLoss()(f, ir, vi), gradient_loss(f, ir, vi))


def test_gradcheck():
    torch.manual_seed(1)
    ir, vi = torch.rand(1, 1, 6, 6, dtype=torch.float64), torch.rand(1, 1, 6, 6, dtype=torch.float64)
    f = torch.rand(1, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: gradient_loss(x, ir, vi), (f,))
    assert torch.autograd.gradcheck(sobel_magnitude, (f,))


def test_errors():
    with pytest.raises(ValueError, match="ir has shape"):
        gradient_loss(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 5, 4), torch.rand(1, 1, 4, 4))
