import numpy as np
import pytest
from skimage.metrics import structural_similarity

from ivif.metrics.ssim import ssim_sum
from ivif.metrics.ssim import structural_similarity as ssim

from .conftest import batch


def test_ssim_reproduces_reference_sheet(tno42_sheets):
    assert tno42_sheets["cddfuse"].mismatches("SSIM") == []


def test_ssim_of_image_with_itself_is_one_per_source(triplet):
    ir, vi, _ = (batch(a) for a in triplet)
    per_source = ssim(ir, ir.unsqueeze(1).expand(-1, 2, -1, -1).contiguous())
    assert per_source[0].tolist() == pytest.approx([1.0, 1.0], abs=1e-12)
    assert ssim_sum(vi, vi, vi).item() == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize("data_range", [2.0, 255.0])
def test_ssim_matches_scikit_image(triplet, data_range):
    ir, _, fused = triplet
    expected = structural_similarity(fused, ir, data_range=data_range)
    got = ssim(batch(fused), batch(ir).unsqueeze(1), data_range).item()
    assert got == pytest.approx(expected, rel=1e-9)


def test_ssim_is_symmetric_in_the_sources(triplet):
    ir, vi, fused = (batch(a) for a in triplet)
    assert ssim_sum(ir, vi, fused).item() == pytest.approx(ssim_sum(vi, ir, fused).item(), rel=1e-12)


def test_ssim_rejects_images_smaller_than_the_window():
    x = batch(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="at least 7x7"):
        ssim_sum(x, x, x)
