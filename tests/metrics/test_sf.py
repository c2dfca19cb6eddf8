import numpy as np
import pytest

from ivif.metrics.sf import spatial_frequency

from .conftest import batch


@pytest.mark.parametrize("convention", ["cddfuse", "matlab-tang"])
def test_sf_reproduces_reference_sheets(tno42_sheets, convention):
    assert tno42_sheets[convention].mismatches("SF") == []


def test_sf_of_horizontal_ramp_is_its_slope():
    img = np.tile(np.arange(0, 60, 3, dtype=np.float64), (10, 1))  # dx = 3, dy = 0
    assert spatial_frequency(batch(img)).item() == pytest.approx(3.0)
    assert spatial_frequency(batch(img), scale=1 / 255).item() == pytest.approx(3.0 / 255)
