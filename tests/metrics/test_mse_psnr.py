import math

import numpy as np
import pytest

from ivif.metrics.mse import mean_squared_error
from ivif.metrics.psnr import peak_signal_to_noise_ratio

from .conftest import batch


@pytest.mark.parametrize("column", ["MSE", "PSNR"])
def test_mse_psnr_reproduce_matlab_sheet(tno42_sheets, column):
    assert tno42_sheets["matlab-tang"].mismatches(column) == []


def test_mse_known_values_and_scale():
    ir, vi, fused = np.zeros((4, 4)), np.full((4, 4), 4.0), np.full((4, 4), 2.0)
    assert mean_squared_error(batch(ir), batch(vi), batch(fused)).item() == pytest.approx(4.0)
    scaled = mean_squared_error(batch(ir), batch(vi), batch(fused), intensity_scale=0.5).item()
    assert scaled == pytest.approx(1.0)


def test_psnr_uses_fused_maximum_or_given_peak():
    ir, vi, fused = np.zeros((4, 4)), np.full((4, 4), 4.0), np.full((4, 4), 2.0)
    got = peak_signal_to_noise_ratio(batch(ir), batch(vi), batch(fused)).item()
    assert got == pytest.approx(10 * math.log10(2.0**2 / 4.0))
    got = peak_signal_to_noise_ratio(batch(ir), batch(vi), batch(fused), peak=255.0).item()
    assert got == pytest.approx(10 * math.log10(255.0**2 / 4.0))


def test_psnr_of_perfect_match_is_infinite(triplet):
    x = batch(triplet[0])
    assert math.isinf(peak_signal_to_noise_ratio(x, x, x).item())
