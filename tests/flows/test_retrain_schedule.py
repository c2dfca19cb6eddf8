"""Cron schedules are validated (and their next runs computed) without waiting for a tick."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivif.orchestration.config import RetrainConfig
from ivif.orchestration.schedule import ScheduleError, cron_schedule, next_runs
from ivif.orchestration.trainers import allowed_trainers, resolve_trainer

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday


def test_valid_cron_gives_its_next_runs():
    assert cron_schedule("0 3 * * *").cron == "0 3 * * *"
    runs = next_runs("30 2 * * 1-5", "UTC", count=3, start=START)
    assert [r.isoformat() for r in runs] == [
        "2026-01-06T02:30:00+00:00",
        "2026-01-07T02:30:00+00:00",
        "2026-01-08T02:30:00+00:00",
    ]


def test_time_zone_shifts_the_runs():
    (run,) = next_runs("0 3 * * *", "Europe/Berlin", count=1, start=START)
    assert run.utcoffset().total_seconds() == 3600 and run.hour == 3


@pytest.mark.parametrize("cron", ["61 * * * *", "0 3 * *", "every day", "0 25 * * *", ""])
def test_invalid_cron_is_rejected_with_the_fix(cron):
    with pytest.raises(ScheduleError, match="minute hour day month weekday"):
        cron_schedule(cron)


def test_unknown_time_zone_is_rejected():
    with pytest.raises(ScheduleError, match="Mars/Olympus"):
        cron_schedule("0 3 * * *", "Mars/Olympus")


def test_serve_dry_run_validates_before_contacting_any_server(tmp_path, capsys):
    from flows.retrain import main

    params = tmp_path / "params.yaml"
    params.write_text("retrain: {cron: '15 4 * * *'}\n")
    assert main(["serve", "--dry-run", "--params", str(params)]) == 0
    assert "schedule '15 4 * * *' (UTC); next runs:" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="invalid schedule '61 \\* \\* \\* \\*'"):
        main(["serve", "--dry-run", "--params", str(params), "--cron", "61 * * * *"])
    with pytest.raises(SystemExit, match="'retrain.data_stages' may not be changed by a run"):
        main(["serve", "--dry-run", "--params", str(params), "retrain.data_stages=[x/dvc.yaml:pwn]"])


def test_trainer_allow_list():
    env = {"IVIF_RETRAIN_TRAINERS": "fast=json:dumps, other = os.path:join"}
    assert allowed_trainers(env) == {"engine": "ivif.orchestration.trainers:engine_trainer", "fast": "json:dumps", "other": "os.path:join"}
    with pytest.raises(ValueError, match="unknown trainer 'os:system'.*IVIF_RETRAIN_TRAINERS"):
        resolve_trainer("os:system", env)
    with pytest.raises(ValueError, match="name=module:function"):
        allowed_trainers({"IVIF_RETRAIN_TRAINERS": "broken"})


def test_retrain_config_validation():
    assert RetrainConfig(data_stages=["fetch"]).data_stages == ("fetch",)
    with pytest.raises(ValueError, match="lock_timeout_s"):
        RetrainConfig(lock_timeout_s=0)
    with pytest.raises(ValueError, match="fetch_retries"):
        RetrainConfig(fetch_retries=-1)
    with pytest.raises(ValueError, match="retrain.lease_s must be >= 60"):
        RetrainConfig(lease_s=5)
