"""The champion gate: may a candidate replace the current champion? (pure; no MLflow)

Rule: the candidate passes when, on every metric of the named set, it is not worse than
the champion by more than ``tolerance`` (relative to the champion's value), and, with
``require_improvement``, it is strictly better on at least one of them, so that
re-evaluating an identical model never moves the alias. With no champion yet, any
candidate with finite scores is promoted.

>>> decision = decide({"EN": 7.0, "SSIM": 1.4}, {"EN": 6.9, "SSIM": 1.41}, GateConfig(metrics=("EN", "SSIM")))
>>> decision.promote, decision.reason
(True, 'passes: better on EN; no metric worse than 2% (EN +1.45%, SSIM -0.71%)')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ivif.metrics.names import LOWER_IS_BETTER
from ivif.metrics.names import STANDARD as STANDARD_METRICS

DEFAULT_TOLERANCE = 0.02
_EPS = 1e-12  # guards the relative change of a metric whose champion value is 0


@dataclass(frozen=True)
class GateConfig:
    """The ``gate:`` section of ``params.yaml``."""

    metrics: tuple[str, ...] = STANDARD_METRICS
    """Metrics compared (names of ``ivif.metrics.METRICS``)."""
    lower_is_better: tuple[str, ...] = LOWER_IS_BETTER
    """Metrics where smaller is better; every other metric is higher-is-better."""
    tolerance: float = DEFAULT_TOLERANCE
    """Largest allowed relative drop per metric (0.02 = 2% worse than the champion)."""
    require_improvement: bool = True
    """Also demand a strict improvement on at least one metric."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "lower_is_better", tuple(self.lower_is_better))
        if not self.metrics:
            raise ValueError("gate.metrics must name at least one metric")
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"gate.metrics has duplicates: {list(self.metrics)}")
        if not 0 <= self.tolerance < 1:
            raise ValueError(f"gate.tolerance is a relative drop in [0, 1), got {self.tolerance}")

    def higher_is_better(self, metric: str) -> bool:
        return metric not in self.lower_is_better


@dataclass(frozen=True)
class MetricComparison:
    """One metric of the gate: both scores and the candidate's relative improvement."""

    metric: str
    candidate: float
    champion: float
    improvement: float
    """Relative change in the better direction (+0.01 = 1% better, -0.01 = 1% worse)."""
    within_tolerance: bool


@dataclass(frozen=True)
class GateDecision:
    """Whether the candidate becomes champion, why, and the numbers behind it."""

    promote: bool
    reason: str
    comparisons: tuple[MetricComparison, ...] = ()
    first_champion: bool = False

    def scores(self, role: str) -> dict[str, float]:
        """``role`` is "candidate" or "champion": metric -> that model's score."""
        return {c.metric: getattr(c, role) for c in self.comparisons}


def relative_improvement(candidate: float, champion: float, higher_is_better: bool) -> float:
    """(candidate - champion) / |champion|, sign flipped for lower-is-better metrics.

    A non-finite champion score (a broken champion) counts as an infinite improvement.
    """
    if not math.isfinite(champion):
        return math.inf
    change = (candidate - champion) / max(abs(champion), _EPS)
    return change if higher_is_better else -change


def decide(
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
    config: GateConfig = GateConfig(),
) -> GateDecision:
    """Apply the gate to the candidate's and champion's mean scores on the same split."""
    _require_metrics(candidate, config, "candidate")
    not_finite = [m for m in config.metrics if not math.isfinite(candidate[m])]
    if not_finite:
        return GateDecision(False, f"rejected: candidate scores are not finite on {not_finite}")
    if champion is None:
        return GateDecision(True, "promoted: no champion yet", first_champion=True)
    _require_metrics(champion, config, "champion")
    comparisons = tuple(_compare(m, candidate[m], champion[m], config) for m in config.metrics)
    summary = ", ".join(f"{c.metric} {c.improvement:+.2%}" for c in comparisons)
    worse = [c.metric for c in comparisons if not c.within_tolerance]
    if worse:
        return GateDecision(False, f"rejected: worse than {config.tolerance:.0%} on {worse} ({summary})", comparisons)
    better = [c.metric for c in comparisons if c.improvement > 0]
    if config.require_improvement and not better:
        return GateDecision(False, f"rejected: no metric improves ({summary})", comparisons)
    return GateDecision(
        True,
        f"passes: better on {', '.join(better) or 'none'}; no metric worse than {config.tolerance:.0%} ({summary})",
        comparisons,
    )


def _compare(metric: str, candidate: float, champion: float, config: GateConfig) -> MetricComparison:
    improvement = relative_improvement(candidate, champion, config.higher_is_better(metric))
    return MetricComparison(metric, float(candidate), float(champion), improvement, improvement >= -config.tolerance)


def _require_metrics(scores: Mapping[str, float], config: GateConfig, role: str) -> None:
    missing = [m for m in config.metrics if m not in scores]
    if missing:
        raise ValueError(f"{role} scores lack gate metric(s) {missing}; evaluate with them or change gate.metrics in params.yaml")
