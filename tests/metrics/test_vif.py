import numpy as np
import pytest

from ivif.metrics.vif import visual_information_fidelity as vif

from .conftest import batch, smooth_image


def test_vif_reproduces_reference_sheet(tno42_sheets):
    assert tno42_sheets["cddfuse"].mismatches("VIF") == []


def test_vif_of_identical_images_is_one_per_source():
    x = batch(smooth_image(np.random.default_rng(0), 64, 64))
    assert vif(x, x, x).item() == pytest.approx(2.0, rel=1e-9)


def test_vif_is_symmetric_in_the_sources(triplet):
    ir, vi, fused = (batch(a) for a in triplet)
    assert vif(ir, vi, fused).item() == pytest.approx(vif(vi, ir, fused).item(), rel=1e-12)


def test_vif_of_flat_source_counts_as_one():
    """No information in a flat image: 0/0 is reported as 1 like the reference."""
    flat = batch(np.full((48, 48), 100.0))
    assert vif(flat, flat, flat).item() == pytest.approx(2.0)


def test_vif_rejects_images_smaller_than_the_windows():
    x = batch(np.zeros((10, 10)))
    with pytest.raises(ValueError, match="smaller than the 17x17 window"):
        vif(x, x, x)
