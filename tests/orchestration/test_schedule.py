"""Schedule errors point at the field that is wrong: a bad time zone never gets the cron hint."""

from __future__ import annotations

import pytest

from ivif.orchestration.schedule import ScheduleError, cron_schedule


def test_bad_time_zone_names_the_time_zone_and_an_example():
    with pytest.raises(ScheduleError) as caught:
        cron_schedule("0 3 * * *", "Europe/Berln")
    message = str(caught.value)
    assert 'time zone: Invalid timezone: "Europe/Berln"' in message
    assert "'Europe/Berlin'" in message and "retrain.timezone" in message
    assert "minute hour day month weekday" not in message  # the cron is fine


def test_bad_cron_gets_the_cron_hint_only():
    with pytest.raises(ScheduleError) as caught:
        cron_schedule("0 3 * *", "UTC")
    message = str(caught.value)
    assert "cron expression: Invalid cron string" in message and "minute hour day month weekday" in message
    assert "time zone:" not in message


def test_both_wrong_reports_both():
    with pytest.raises(ScheduleError, match="cron expression: .*; time zone: .*Europe/Berlin"):
        cron_schedule("0 3 * *", "Mars/Olympus")
