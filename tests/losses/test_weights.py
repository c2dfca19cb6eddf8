import pytest
import torch

from ivif.losses.weights import adaptive_weight, adaptive_weights, weighted_target


def test_hand_computed_weights():
    a, b = torch.tensor([3.0, 0.0, 0.5]), torch.tensor([1.0, 0.0, 0.5])
    torch.testing.assert_close(adaptive_weight(a, b, eps=0.0 + 1e-12), torch.tensor([0.75, 0.0, 0.5]))


def test_both_zero_is_finite_and_zero():
    zero = torch.zeros(4)
    w_a, w_b = adaptive_weights(zero, zero)
    assert torch.equal(w_a, zero) and torch.equal(w_b, zero)


def test_weights_are_symmetric_and_sum_to_one():
    a, b = torch.rand(100) + 0.01, torch.rand(100) + 0.01
    w_a, w_b = adaptive_weights(a, b)
    torch.testing.assert_close(w_b, adaptive_weight(b, a))
    torch.testing.assert_close(w_a + w_b, torch.ones(100))


def test_weighted_target_hand_case():
    # (0.6² + 0.2²) / (0.6 + 0.2) = 0.5
    target = weighted_target(torch.tensor([0.6, 1.0]), torch.tensor([0.2, 0.0]))
    torch.testing.assert_close(target, torch.tensor([0.5, 1.0]))


def test_weight_gradcheck():
    a = torch.rand(5, dtype=torch.float64, requires_grad=True)
    b = torch.rand(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: weighted_target(x, y, 1e-3), (a, b))


def test_errors():
    with pytest.raises(ValueError, match="equal shapes"):
        adaptive_weight(torch.ones(2), torch.ones(3))
    with pytest.raises(ValueError, match="eps"):
        adaptive_weights(torch.ones(2), torch.ones(2), eps=-1)
