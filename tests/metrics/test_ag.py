import math

import numpy as np
import pytest

from ivif.metrics.ag import average_gradient

from .conftest import batch


@pytest.mark.parametrize("convention", ["cddfuse", "matlab-tang"])
def test_ag_reproduces_reference_sheets(tno42_sheets, convention):
    assert tno42_sheets[convention].mismatches("AG") == []


def test_ag_of_ramp_and_its_normalisations():
    img = np.tile(np.arange(12, dtype=np.float64), (9, 1))  # Gx = 1, Gy = 0 everywhere
    per_pixel = math.sqrt(0.5)
    assert average_gradient(batch(img)).item() == pytest.approx(per_pixel)
    interior = average_gradient(batch(img), normalisation="interior").item()
    assert interior == pytest.approx(per_pixel * 9 * 12 / (8 * 11))


def test_ag_matches_numpy_gradient(triplet):
    gy, gx = np.gradient(triplet[2])
    assert average_gradient(batch(triplet[2])).item() == pytest.approx(np.mean(np.sqrt((gx**2 + gy**2) / 2)))


def test_ag_rejects_single_row():
    with pytest.raises(ValueError, match="at least 2x2"):
        average_gradient(batch(np.zeros((1, 5))))
