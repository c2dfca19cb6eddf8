"""Statistics against scipy and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ivif.study.stats import bootstrap_mean_ci, data_multiplier, data_multiplier_ci, holm, wilcoxon_paired


def test_wilcoxon_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20)
    b = a + rng.normal(0.3, 0.5, size=20)
    statistic, p, used = wilcoxon_paired(a, b)
    expected = stats.wilcoxon(a, b)
    assert used == 20
    assert statistic == pytest.approx(expected.statistic) and p == pytest.approx(expected.pvalue)


def test_wilcoxon_hand_case():
    # differences 1..5 all positive: W- = 0, exact two-sided p = 2 / 2**5
    a = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    b = a - np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    statistic, p, used = wilcoxon_paired(a, b)
    assert statistic == 0.0 and p == pytest.approx(2 / 32) and used == 5


def test_wilcoxon_drops_nan_and_identical():
    assert wilcoxon_paired([1.0, 2.0], [1.0, 2.0]) == (0.0, 1.0, 2)
    _, _, used = wilcoxon_paired([1.0, math.nan, 3.0, 4.0], [0.0, 1.0, 1.0, 1.0])
    assert used == 3
    with pytest.raises(ValueError, match="equal lengths"):
        wilcoxon_paired([1.0], [1.0, 2.0])


def test_holm_hand_case():
    # sorted p: 0.01 (x3 = 0.03), 0.02 (x2 = 0.04), 0.04 (x1 = 0.04)
    adjusted = holm([0.04, 0.01, 0.02])
    assert adjusted == pytest.approx([0.04, 0.03, 0.04])
    # monotone and capped at 1
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm([0.03, 0.001, 0.9]) == pytest.approx([0.06, 0.003, 0.9])


def test_bootstrap_interval():
    assert bootstrap_mean_ci([0.5]) == (0.5, 0.5, 0.5)
    mean, low, high = bootstrap_mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and 1.0 <= low < mean < high <= 4.0
    assert all(math.isnan(v) for v in bootstrap_mean_ci([math.nan]))
    assert bootstrap_mean_ci([1.0, 2.0, 3.0], seed=3) == bootstrap_mean_ci([1.0, 2.0, 3.0], seed=3)


def test_data_multiplier_interpolates_on_log_n():
    # SPTP: 0.4 at N=2, 0.6 at N=200; APTP at N=2 scores 0.5 -> halfway in log N: N* = 20 -> x10
    value, note = data_multiplier(2, 0.5, [2, 200], [0.4, 0.6])
    assert note == "" and value == pytest.approx(10.0)
    value, note = data_multiplier(2, 0.7, [2, 200], [0.4, 0.6])
    assert note == ">" and value == pytest.approx(100.0)
    value, note = data_multiplier(8, 0.3, [2, 200], [0.4, 0.6])
    assert note == "<" and value == pytest.approx(0.25)


def test_data_multiplier_interval_over_seeds():
    # one seed everywhere: no spread, the interval is the point value
    assert data_multiplier_ci(2, [0.5], {2: [0.4], 200: [0.6]}) == pytest.approx((10.0, 10.0))
    # seeds that straddle the curve: the interval holds the point value and stays within the study's bounds
    scores, sptp = [0.45, 0.5, 0.55], {2: [0.38, 0.4, 0.42], 200: [0.58, 0.6, 0.62]}
    value, _ = data_multiplier(2, 0.5, [2, 200], [0.4, 0.6])
    low, high = data_multiplier_ci(2, scores, sptp, resamples=500)
    assert 2 / 2 <= low < value < high <= 200 / 2
    assert data_multiplier_ci(2, scores, sptp, seed=1, resamples=500) == data_multiplier_ci(2, scores, sptp, seed=1, resamples=500)
