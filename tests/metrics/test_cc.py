import numpy as np
import pytest

from ivif.metrics.cc import correlation_coefficient, pearson

from .conftest import batch


def test_cc_reproduces_matlab_sheet(tno42_sheets):
    assert tno42_sheets["matlab-tang"].mismatches("CC") == []


def test_pearson_matches_numpy(triplet):
    ir, _, fused = triplet
    assert pearson(batch(ir), batch(fused)).item() == pytest.approx(np.corrcoef(ir.ravel(), fused.ravel())[0, 1])


def test_cc_is_symmetric_and_one_for_copies(triplet):
    ir, vi, fused = (batch(a) for a in triplet)
    assert correlation_coefficient(ir, vi, fused).item() == pytest.approx(correlation_coefficient(vi, ir, fused).item())
    assert correlation_coefficient(fused, fused, fused).item() == pytest.approx(1.0)
