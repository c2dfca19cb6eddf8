import dataclasses
import math

import pytest

from ivif.metrics.conventions import CDDFUSE, CONVENTIONS, MATLAB_TANG, Convention, get_convention


def test_default_and_lookup():
    assert get_convention("cddfuse") is CDDFUSE
    assert get_convention(MATLAB_TANG) is MATLAB_TANG
    assert set(CONVENTIONS) == {"cddfuse", "matlab-tang"}
    with pytest.raises(ValueError, match="unknown metric convention 'nope'"):
        get_convention("nope")


def test_conventions_are_frozen_data():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CDDFUSE.mi_log_base = 2.0  # type: ignore[misc]
    assert CDDFUSE.mi_log_base == math.e and MATLAB_TANG.mi_log_base == 2.0
    assert MATLAB_TANG.sf_scale == pytest.approx(1 / 255)


def test_invalid_choices_are_rejected():
    with pytest.raises(ValueError, match="ag_normalisation"):
        dataclasses.replace(CDDFUSE, ag_normalisation="rows")
    with pytest.raises(ValueError, match="mi_log_base"):
        dataclasses.replace(CDDFUSE, mi_log_base=1.0)
    with pytest.raises(ValueError, match="psnr_peak"):
        dataclasses.replace(CDDFUSE, psnr_peak=0.0)


def test_a_custom_convention_runs_through_the_same_code(triplet):
    from ivif.metrics import compute_metrics

    bits = Convention(**{**dataclasses.asdict(CDDFUSE), "name": "bits", "mi_log_base": 2.0})
    nats = compute_metrics(*triplet, convention=CDDFUSE, names=["MI"])["MI"]
    assert compute_metrics(*triplet, convention=bits, names=["MI"])["MI"] == pytest.approx(nats / math.log(2))
