import pytest

from ivif.metrics.scd import sum_of_correlations_of_differences as scd

from .conftest import batch


@pytest.mark.parametrize("convention", ["cddfuse", "matlab-tang"])
def test_scd_reproduces_reference_sheets(tno42_sheets, convention):
    assert tno42_sheets[convention].mismatches("SCD") == []


def test_scd_is_symmetric_in_the_sources(triplet):
    ir, vi, fused = (batch(a) for a in triplet)
    assert scd(ir, vi, fused).item() == pytest.approx(scd(vi, ir, fused).item(), rel=1e-12)


def test_scd_of_sum_of_sources_is_two(triplet):
    """F = IR + VI: F − VI = IR and F − IR = VI, so both correlations are 1."""
    ir, vi, _ = (batch(a) for a in triplet)
    assert scd(ir, vi, ir + vi).item() == pytest.approx(2.0, rel=1e-12)
