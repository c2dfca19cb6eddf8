"""Statistics of the study: paired Wilcoxon tests, Holm correction, bootstrap intervals,
and the data multiplier. Pure functions over arrays."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def wilcoxon_paired(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, int]:
    """Two-sided Wilcoxon signed-rank test of paired samples ``a`` vs ``b``.

    Pairs with a NaN are dropped; zero differences are dropped (``zero_method='wilcox'``).
    Returns (statistic, p-value, pairs used); p = 1 when no non-zero difference is left.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired samples must have equal lengths, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    diff = a[keep] - b[keep]
    nonzero = int(np.count_nonzero(diff))
    if nonzero == 0:
        return 0.0, 1.0, int(keep.sum())
    result = stats.wilcoxon(a[keep], b[keep], zero_method="wilcox", alternative="two-sided")
    return float(result.statistic), float(result.pvalue), int(keep.sum())


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (same order as given, capped at 1, monotone)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def bootstrap_mean_ci(values: Sequence[float], seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES,
                      confidence: float = CONFIDENCE) -> tuple[float, float, float]:  # fmt: skip
    """Mean of ``values`` (e.g. one per seed) and its percentile bootstrap interval.

    One value gives a zero-width interval; NaNs are dropped; none left gives NaNs.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return mean, float(low), float(high)


def data_multiplier(n: float, score: float, sptp_n: Sequence[float], sptp_scores: Sequence[float]) -> tuple[float, str]:
    """The SPTP set size whose score equals ``score``, divided by ``n``; interpolated on log N.

    ``sptp_n``/``sptp_scores`` are the SPTP curve (mean over seeds per N). Returns
    (multiplier, note); note is ``""`` for an interpolated value, ``">"`` when ``score``
    beats every SPTP point (the multiplier is then a lower bound: the largest N over
    ``n``), ``"<"`` when it is below every SPTP point (an upper bound: smallest N over ``n``).
    Where the curve is not monotone, the first crossing from the smallest N is used.
    """
    order = np.argsort(sptp_n)
    xs = np.log(np.asarray(sptp_n, dtype=np.float64)[order])
    ys = np.asarray(sptp_scores, dtype=np.float64)[order]
    if xs.size == 0 or not math.isfinite(score):
        return math.nan, "no SPTP curve"
    if score > ys.max():
        return float(math.exp(xs[-1]) / n), ">"
    if score < ys.min():
        return float(math.exp(xs[0]) / n), "<"
    for i in range(xs.size - 1):
        y0, y1 = ys[i], ys[i + 1]
        if min(y0, y1) <= score <= max(y0, y1):
            t = 0.0 if y0 == y1 else (score - y0) / (y1 - y0)
            return float(math.exp(xs[i] + t * (xs[i + 1] - xs[i])) / n), ""
    return float(math.exp(xs[0]) / n), ""  # a single SPTP point equal to score


def data_multiplier_ci(n: float, scores: Sequence[float], sptp: dict[float, Sequence[float]], seed: int = 0,
                       resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = CONFIDENCE) -> tuple[float, float]:  # fmt: skip
    """Percentile bootstrap interval of :func:`data_multiplier` over seeds.

    ``scores``: the unpaired paradigm's per-seed scores at ``n`` base pairs; ``sptp``: SPTP's
    per-seed scores by set size. Each resample draws seeds with replacement for the paradigm
    and, independently, at every SPTP set size, and recomputes the multiplier (bounded values,
    ``>``/``<``, count at their bound, so an interval reaching the study's largest or smallest
    set is a bound too). One seed everywhere gives a zero-width interval.
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(scores, dtype=np.float64)
    sizes = sorted(sptp)
    curves = [np.asarray(sptp[s], dtype=np.float64) for s in sizes]
    values = np.empty(resamples)
    for i in range(resamples):
        score = x[rng.integers(0, x.size, x.size)].mean()
        curve = [c[rng.integers(0, c.size, c.size)].mean() for c in curves]
        values[i] = data_multiplier(n, score, sizes, curve)[0]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)
