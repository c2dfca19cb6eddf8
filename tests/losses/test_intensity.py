import pytest
import torch

from ivif.losses import IntensityLoss, intensity_loss


def _const(value, shape=(1, 1, 4, 4), dtype=torch.float32):
    return torch.full(shape, value, dtype=dtype)


def test_hand_computed():
    # target = (0.6² + 0.2²)/0.8 = 0.5 everywhere; |0.3 − 0.5| = 0.2
    loss = intensity_loss(_const(0.3), _const(0.6), _const(0.2))
    assert loss.item() == pytest.approx(0.2, abs=1e-6)


def test_brighter_source_wins():
    # IR = 1, VIS = 0: the target is the IR pixel, so F = IR costs nothing.
    assert intensity_loss(_const(1.0), _const(1.0), _const(0.0)).item() == pytest.approx(0.0, abs=1e-6)


def test_symmetric_in_sources():
    ir, vi, f = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(intensity_loss(f, ir, vi), intensity_loss(f, vi, ir))


def test_module_matches_function():
    ir, vi, f = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(IntensityLoss()(f, ir, vi), intensity_loss(f, ir, vi))


def test_gradcheck():
    torch.manual_seed(0)
    ir, vi = torch.rand(1, 1, 6, 6, dtype=torch.float64), torch.rand(1, 1, 6, 6, dtype=torch.float64)
    f = torch.rand(1, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: intensity_loss(x, ir, vi), (f,))


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((1, 1, 4, 4), (1, 1, 4, 4), (1, 1, 4, 5)), "vi has shape"),
        (((1, 2, 4, 4), (1, 2, 4, 4), (1, 2, 4, 4)), r"\(B, 1, H, W\)"),
        (((4, 4), (4, 4), (4, 4)), r"\(B, 1, H, W\)"),
    ],
)
def test_shape_errors(shapes, match):
    with pytest.raises(ValueError, match=match):
        intensity_loss(*(torch.rand(s) for s in shapes))


def test_integer_input_is_an_error():
    with pytest.raises(ValueError, match="floating-point"):
        intensity_loss(torch.rand(1, 1, 4, 4), torch.ones(1, 1, 4, 4, dtype=torch.uint8), torch.rand(1, 1, 4, 4))
