import numpy as np
import pytest

from ivif.metrics.qabf import qabf

from .conftest import batch


def test_qabf_reproduces_reference_sheet(tno42_sheets):
    assert tno42_sheets["cddfuse"].mismatches("Qabf") == []


def test_qabf_is_symmetric_and_bounded(triplet):
    ir, vi, fused = (batch(a) for a in triplet)
    value = qabf(ir, vi, fused).item()
    assert value == pytest.approx(qabf(vi, ir, fused).item(), rel=1e-12)
    assert 0 < value < 1


def test_qabf_rewards_keeping_edges(triplet):
    ir, vi, fused = (batch(a) for a in triplet)
    blurred = batch(np.full(triplet[2].shape, triplet[2].mean()))
    assert qabf(ir, vi, fused).item() > qabf(ir, vi, blurred).item()
