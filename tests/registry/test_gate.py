import math

import pytest

from ivif.registry.gate import GateConfig, decide, relative_improvement

CONFIG = GateConfig(metrics=("EN", "SSIM", "MSE"), lower_is_better=("MSE",), tolerance=0.05)
CHAMPION = {"EN": 6.0, "SSIM": 1.0, "MSE": 100.0}


def test_first_model_becomes_champion():
    decision = decide(CHAMPION, None, CONFIG)
    assert decision.promote and decision.first_champion
    assert decision.reason == "promoted: no champion yet"


def test_better_candidate_passes_and_records_both_scores():
    candidate = {"EN": 6.3, "SSIM": 1.0, "MSE": 90.0, "SD": 1.0}
    decision = decide(candidate, CHAMPION, CONFIG)
    assert decision.promote
    assert decision.scores("candidate") == {"EN": 6.3, "SSIM": 1.0, "MSE": 90.0}
    assert decision.scores("champion") == CHAMPION
    by_metric = {c.metric: c for c in decision.comparisons}
    assert by_metric["EN"].improvement == pytest.approx(0.05)
    assert by_metric["MSE"].improvement == pytest.approx(0.10)  # lower MSE is better


def test_one_metric_worse_than_tolerance_rejects():
    candidate = {"EN": 9.0, "SSIM": 0.94, "MSE": 50.0}  # SSIM 6% worse, tolerance 5%
    decision = decide(candidate, CHAMPION, CONFIG)
    assert not decision.promote
    assert "['SSIM']" in decision.reason


def test_drop_within_tolerance_is_allowed_when_something_improves():
    candidate = {"EN": 6.6, "SSIM": 0.96, "MSE": 104.0}  # -4% SSIM, +4% MSE: within 5%
    assert decide(candidate, CHAMPION, CONFIG).promote


def test_identical_model_does_not_move_the_alias():
    decision = decide(dict(CHAMPION), CHAMPION, CONFIG)
    assert not decision.promote and "no metric improves" in decision.reason
    relaxed = GateConfig(metrics=CONFIG.metrics, lower_is_better=("MSE",), require_improvement=False)
    assert decide(dict(CHAMPION), CHAMPION, relaxed).promote


def test_non_finite_candidate_is_rejected_even_without_champion():
    decision = decide({"EN": math.nan, "SSIM": 1.0, "MSE": 1.0}, None, CONFIG)
    assert not decision.promote and "not finite" in decision.reason


def test_broken_champion_loses_to_a_finite_candidate():
    champion = {"EN": math.nan, "SSIM": 1.0, "MSE": 100.0}
    assert decide({"EN": 1.0, "SSIM": 1.0, "MSE": 100.0}, champion, CONFIG).promote
    assert relative_improvement(1.0, math.inf, True) == math.inf


def test_missing_metric_names_the_fix():
    with pytest.raises(ValueError, match=r"candidate scores lack gate metric\(s\) \['MSE'\].*gate.metrics"):
        decide({"EN": 1.0, "SSIM": 1.0}, CHAMPION, CONFIG)


@pytest.mark.parametrize("kwargs", [{"metrics": ()}, {"tolerance": 1.5}, {"tolerance": -0.1}, {"metrics": ("EN", "EN")}])
def test_config_validation(kwargs):
    with pytest.raises(ValueError, match="gate"):
        GateConfig(**kwargs)
