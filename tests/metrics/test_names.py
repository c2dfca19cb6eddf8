"""Metric names have one owner (ivif.metrics.names); every default and help text asks it."""

from __future__ import annotations

import argparse

from ivif.evaluation import EvaluateConfig
from ivif.metrics import ALL_METRICS, LOWER_IS_BETTER, METRIC_NAMES, METRICS, STANDARD, higher_is_better
from ivif.registry.gate import GateConfig


def test_the_suite_computes_exactly_the_owned_names():
    assert tuple(METRICS) == METRIC_NAMES == ALL_METRICS
    assert ALL_METRICS[: len(STANDARD)] == STANDARD and len(STANDARD) == 9


def test_defaults_come_from_the_owner():
    assert EvaluateConfig().metrics == STANDARD
    assert GateConfig().metrics == STANDARD and GateConfig().lower_is_better == LOWER_IS_BETTER
    assert [m for m in ALL_METRICS if not higher_is_better(m)] == list(LOWER_IS_BETTER)


def test_cli_help_lists_the_owned_names():
    from ivif.cli import metrics as metrics_cli

    subparsers = argparse.ArgumentParser().add_subparsers()
    metrics_cli.add_parser(subparsers)
    (help_text,) = [action.help for action in subparsers._choices_actions]
    assert f"({', '.join(ALL_METRICS)})" in help_text


def test_unknown_name_is_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown metric 'SNR'; choose from EN, SD"):
        higher_is_better("SNR")
