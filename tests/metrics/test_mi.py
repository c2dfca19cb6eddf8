import math

import numpy as np
import pytest

from ivif.metrics.entropy import entropy
from ivif.metrics.mi import mutual_information, pair_mutual_information

from .conftest import batch


@pytest.mark.parametrize("convention", ["cddfuse", "matlab-tang"])
def test_mi_reproduces_reference_sheets(tno42_sheets, convention):
    assert tno42_sheets[convention].mismatches("MI") == []


def test_mi_of_image_with_itself_is_its_entropy(triplet):
    x = batch(triplet[0])
    assert pair_mutual_information(x, x, log_base=2).item() == pytest.approx(entropy(x).item(), rel=1e-12)
    nats = pair_mutual_information(x, x).item()
    assert nats == pytest.approx(entropy(x).item() * math.log(2), rel=1e-12)


def test_mi_is_symmetric_in_the_sources(triplet):
    ir, vi, fused = (batch(a) for a in triplet)
    assert mutual_information(ir, vi, fused).item() == pytest.approx(mutual_information(vi, ir, fused).item(), rel=1e-12)


def test_mi_of_independent_images_is_zero():
    a = np.kron(np.array([[0.0, 255.0], [0.0, 255.0]]), np.ones((4, 4)))  # left/right halves
    b = np.kron(np.array([[0.0, 0.0], [255.0, 255.0]]), np.ones((4, 4)))  # top/bottom halves
    assert pair_mutual_information(batch(a), batch(b)).item() == pytest.approx(0.0, abs=1e-12)


def test_saturating_joint_offset_merges_top_levels():
    """Tang's +1 on uint8 merges 254 and 255 in the joint histogram only."""
    a = np.array([[254.0, 255.0]])
    plain = pair_mutual_information(batch(a), batch(a), log_base=2).item()
    merged = pair_mutual_information(batch(a), batch(a), log_base=2, joint_offset=1).item()
    assert plain == pytest.approx(1.0)  # H(a) = 1 bit
    assert merged == pytest.approx(2.0)  # H(a) + H(a) − H_joint(merged) = 1 + 1 − 0
