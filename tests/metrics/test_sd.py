import numpy as np
import pytest

from ivif.metrics.sd import standard_deviation

from .conftest import batch


def test_sd_reproduces_reference_sheet(tno42_sheets):
    assert tno42_sheets["cddfuse"].mismatches("SD") == []


def test_sd_is_population_std(triplet):
    fused = triplet[2]
    assert standard_deviation(batch(fused)).item() == pytest.approx(np.std(fused), rel=1e-12)
