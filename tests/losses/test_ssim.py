import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity

from ivif.losses import SSIMLoss, gaussian_window, ssim, ssim_loss, ssim_map, ssim_weights

ssim_module = importlib.import_module("ivif.losses.ssim")  # the package re-exports a function named ssim


def test_identity_is_one():
    x = torch.rand(3, 1, 20, 24)
    torch.testing.assert_close(ssim(x, x), torch.ones(3))


def test_map_is_valid_region():
    assert ssim_map(torch.rand(1, 1, 20, 24), torch.rand(1, 1, 20, 24)).shape == (1, 1, 10, 14)


def test_constant_images_hand_computed():
    # Flat images: variances and covariance are 0, so SSIM = (2cd + C1) / (c² + d² + C1).
    c, d, c1 = 0.5, 0.25, 0.01**2
    value = ssim(torch.full((1, 1, 11, 11), c), torch.full((1, 1, 11, 11), d))
    assert value.item() == pytest.approx((2 * c * d + c1) / (c * c + d * d + c1), rel=1e-5)


def test_matches_scikit_image_gaussian_ssim():
    rng = np.random.default_rng(0)
    x = rng.random((40, 36))
    y = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1)
    expected = structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
    ours = ssim(torch.from_numpy(x)[None, None], torch.from_numpy(y)[None, None])
    assert ours.item() == pytest.approx(expected, abs=1e-9)


def test_symmetric():
    x, y = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(ssim(x, y), ssim(y, x))


def test_window():
    window = gaussian_window()
    assert window.shape == (11,) and window.sum().item() == pytest.approx(1.0)
    assert torch.equal(window, window.flip(0)) and window.argmax().item() == 5
    with pytest.raises(ValueError, match="odd"):
        gaussian_window(10)


def test_ssim_gradcheck():
    torch.manual_seed(2)
    x = torch.rand(1, 1, 12, 12, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 1, 12, 12, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: ssim(a, y), (x,))


def test_loss_zero_when_all_equal():
    x = torch.rand(2, 1, 16, 16)
    assert ssim_loss(x, x, x).item() == pytest.approx(0.0, abs=1e-6)


def test_loss_hand_formula():
    # F = IR: s_ir = 1, so loss = 1 − (1·1 + s_vi·s_vi) / (1 + s_vi) for s_vi > 0.
    torch.manual_seed(3)
    ir = torch.rand(1, 1, 16, 16)
    vi = (ir + 0.3 * torch.rand(1, 1, 16, 16)).clamp(0, 1)
    s_vi = ssim(vi, ir).item()
    assert s_vi > 0
    expected = 1 - (1 + s_vi * s_vi) / (1 + s_vi)
    assert ssim_loss(ir, ir, vi).item() == pytest.approx(expected, abs=1e-5)
    assert ssim_loss(ir, vi, ir).item() == pytest.approx(expected, abs=1e-5)  # symmetric


def test_weights_clamped_detached_and_half_when_neither_positive():
    s_ir = torch.tensor([0.8, -0.2, -0.1], requires_grad=True)
    s_vi = torch.tensor([0.2, 0.4, 0.0])
    w_ir, w_vi = ssim_weights(s_ir, s_vi)
    torch.testing.assert_close(w_ir, torch.tensor([0.8, 0.0, 0.5]))
    torch.testing.assert_close(w_vi, torch.tensor([0.2, 1.0, 0.5]))
    assert not w_ir.requires_grad


def test_loss_gradient_flows_through_ssim_only():
    torch.manual_seed(4)
    ir, vi = torch.rand(2, 1, 14, 14, dtype=torch.float64), torch.rand(2, 1, 14, 14, dtype=torch.float64)
    f = torch.rand(2, 1, 14, 14, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(ssim_loss(f, ir, vi), f)
    s_ir, s_vi = ssim(ir, f), ssim(vi, f)
    w_ir, w_vi = ssim_weights(s_ir, s_vi)
    (expected,) = torch.autograd.grad((1 - (w_ir * s_ir + w_vi * s_vi)).mean(), f)
    torch.testing.assert_close(grad, expected)
    assert SSIMLoss()(f, ir, vi).item() == pytest.approx(ssim_loss(f, ir, vi).item())


def test_too_small_is_an_error():
    with pytest.raises(ValueError, match="at least 11"):
        ssim(torch.rand(1, 1, 10, 30), torch.rand(1, 1, 10, 30))


def test_filter_equals_the_two_convolutions_it_replaces():
    torch.manual_seed(5)
    x = torch.rand(3, 1, 19, 26, dtype=torch.float64)
    window = gaussian_window(dtype=torch.float64)
    expected = F.conv2d(F.conv2d(x, window.view(1, 1, 1, -1)), window.view(1, 1, -1, 1))
    torch.testing.assert_close(ssim_module._filter(x, window), expected, rtol=0, atol=1e-12)


def test_loss_shares_moments_yet_equals_two_ssim_calls_and_their_gradients():
    torch.manual_seed(6)
    ir, vi = torch.rand(2, 1, 16, 18, dtype=torch.float64), torch.rand(2, 1, 16, 18, dtype=torch.float64)
    f = torch.rand(2, 1, 16, 18, dtype=torch.float64, requires_grad=True)
    shared = ssim_module._ssim_against_sources(f, ir, vi)
    separate = (ssim(ir, f), ssim(vi, f))
    for a, b in zip(shared, separate):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    grads = [torch.autograd.grad(s.sum(), f)[0] for s in (shared[0] + 2 * shared[1], separate[0] + 2 * separate[1])]
    torch.testing.assert_close(grads[0], grads[1], rtol=0, atol=1e-12)


def test_loss_still_differentiates_a_source_that_asks_for_it():
    torch.manual_seed(7)
    ir = torch.rand(1, 1, 14, 14, dtype=torch.float64, requires_grad=True)
    vi, f = torch.rand(1, 1, 14, 14, dtype=torch.float64), torch.rand(1, 1, 14, 14, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: ssim_module._ssim_against_sources(f, a, vi)[0], (ir,))
