import numpy as np
import pytest

from ivif.metrics.entropy import entropy

from .conftest import batch


@pytest.mark.parametrize("convention", ["cddfuse", "matlab-tang"])
def test_en_reproduces_reference_sheets(tno42_sheets, convention):
    assert tno42_sheets[convention].mismatches("EN") == []


def test_en_of_constant_image_is_zero():
    assert entropy(batch(np.full((16, 16), 77.0))).item() == 0.0


def test_en_of_two_equal_levels_is_one_bit():
    img = np.zeros((8, 8))
    img[:, 4:] = 255
    assert entropy(batch(img)).item() == pytest.approx(1.0, abs=1e-12)


def test_en_of_uniform_levels_is_eight_bits():
    img = np.arange(256, dtype=np.float64).reshape(16, 16)
    assert entropy(batch(img)).item() == pytest.approx(8.0, abs=1e-12)
