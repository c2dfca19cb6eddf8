"""Progress: a tqdm bar on a terminal; otherwise a few log lines, never one per step."""

from __future__ import annotations

import logging

import pytest

from ivif.io import progress
from ivif.io.progress import LogProgress, progress_bar


def test_not_a_terminal_logs_one_line_for_a_short_loop(caplog):
    caplog.set_level(logging.INFO, logger="ivif.io.progress")
    assert list(progress_bar(range(500), desc="evaluate", unit="pair")) == list(range(500))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [lines[0]] and lines[0].startswith("evaluate: done, 500/500 pair (100%) in ")


def test_disabled_progress_logs_instead_of_drawing_a_bar(monkeypatch, caplog):
    monkeypatch.setattr(progress, "_interactive", lambda: True)  # a terminal, but --no-progress
    caplog.set_level(logging.INFO, logger="ivif.io.progress")
    with progress_bar(total=3, desc="train cnn/aptp", unit="step", enabled=False) as bar:
        assert isinstance(bar, LogProgress)
        bar.update(3)
        bar.set_postfix(loss="0.1200")
    assert [r.getMessage() for r in caplog.records][-1].endswith("3/3 step (100%) in 0s, loss=0.1200")


def test_a_terminal_gets_a_tqdm_bar(monkeypatch):
    from tqdm import tqdm

    monkeypatch.setattr(progress, "_interactive", lambda: True)
    with progress_bar(total=2, desc="x") as bar:
        assert isinstance(bar, tqdm)


def test_long_loops_log_at_most_once_per_interval(caplog, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    caplog.set_level(logging.INFO, logger="ivif.io.progress")
    bar = LogProgress(total=20, desc="cache", unit="pair", interval_s=30)
    for _ in range(20):  # one pair every 10 s: 200 s in all
        now[0] += 10
        bar.update(1)
    bar.close()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:2] == ["cache: running, 3/20 pair (15%) in 30s", "cache: running, 6/20 pair (30%) in 60s"]
    assert len(lines) == 6 + 1 and lines[-1] == "cache: done, 20/20 pair (100%) in 200s"


def test_a_loop_left_early_says_stopped_and_silent_says_nothing(caplog):
    caplog.set_level(logging.INFO, logger="ivif.io.progress")
    with progress_bar(total=600, initial=300, desc="train", unit="step", enabled=False) as bar:
        bar.update(81)
    with progress_bar(total=5, desc="rank 1", silent=True) as quiet:
        quiet.update(5)
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == ["train: stopped, 381/600 step (64%)"]


def test_iterating_without_an_iterable_is_an_error():
    with pytest.raises(TypeError, match="update"):
        iter(LogProgress(total=2)).__next__()
