import numpy as np
import pytest
import torch
from scipy import ndimage
from scipy.signal import convolve2d

from ivif.metrics import filtering
from ivif.metrics.filtering import box_kernel_1d, gaussian_kernel_1d, separable_correlate

from .conftest import smooth_image

SCIPY_MODE = {"zeros": "constant", "symmetric": "reflect"}


@pytest.fixture
def planes() -> torch.Tensor:
    rng = np.random.default_rng(1)
    return torch.from_numpy(np.stack([smooth_image(rng, 40, 50) for _ in range(3)])).reshape(1, 3, 40, 50)


def _scipy(x: np.ndarray, ky: np.ndarray, kx: np.ndarray, border: str) -> np.ndarray:
    window = np.outer(ky, kx)
    if border == "valid":
        return convolve2d(x, window[::-1, ::-1], mode="valid")
    return ndimage.correlate(x, window, mode=SCIPY_MODE[border])


@pytest.mark.parametrize("border", ["valid", "zeros", "symmetric"])
@pytest.mark.parametrize("size", [3, 7, 17])
def test_opencv_and_torch_backends_match_scipy(planes, border, size):
    ky = gaussian_kernel_1d(size, size / 5)
    kx = box_kernel_1d(size) if size > 3 else torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
    expected = np.stack([_scipy(p, ky.numpy(), kx.numpy(), border) for p in planes[0].numpy()])
    dispatched = separable_correlate(planes, ky, kx, border)[0].numpy()
    conv2d = filtering._correlate_torch(planes, ky, kx, border)[0].numpy()
    np.testing.assert_allclose(dispatched, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(conv2d, expected, rtol=0, atol=1e-9)


def test_gaussian_window_is_matlab_fspecial():
    g = gaussian_kernel_1d(9, 1.8).numpy()
    r = np.arange(9) - 4
    h = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * 1.8**2))
    np.testing.assert_allclose(np.outer(g, g), h / h.sum(), rtol=1e-12)


def test_short_kernels_are_exact_on_integers():
    x = torch.from_numpy(np.random.default_rng(2).integers(0, 256, (1, 30, 30)).astype(np.float64))
    k = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)
    d = torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
    got = separable_correlate(x, k, d, "zeros")[0].numpy()
    expected = convolve2d(x[0].numpy().astype(np.int64), np.outer(k, d)[::-1, ::-1].astype(np.int64), mode="same")
    assert np.array_equal(got, expected)


def test_even_kernel_and_small_image_are_rejected(planes):
    with pytest.raises(ValueError, match="odd length"):
        separable_correlate(planes, torch.ones(4), torch.ones(3))
    with pytest.raises(ValueError, match="smaller than"):
        separable_correlate(planes[..., :5, :5], torch.ones(7), torch.ones(7))


@pytest.mark.parametrize("border", ["valid", "zeros", "symmetric"])
def test_box_filter_matches_separable_box(planes, border):
    box = box_kernel_1d(7)
    expected = filtering._correlate_torch(planes, box, box, border)
    torch.testing.assert_close(filtering.box_filter(planes, 7, border), expected, rtol=0, atol=1e-9)
