"""Cron schedules, validated before anything is served (no waiting for a tick to find a typo)."""

from __future__ import annotations

import asyncio
from datetime import datetime


class ScheduleError(ValueError):
    """A cron expression or time zone Prefect would not accept."""


def cron_schedule(cron: str, timezone: str = "UTC"):
    """Prefect ``CronSchedule`` for ``cron`` in ``timezone``; ScheduleError if invalid."""
    from pydantic import ValidationError

    from prefect.client.schemas.schedules import CronSchedule

    try:
        return CronSchedule(cron=cron, timezone=timezone)
    except ValidationError as exc:
        problem = "; ".join(error["msg"] for error in exc.errors())
        raise ScheduleError(f"invalid schedule {cron!r} ({timezone}): {problem}. Use five fields: minute hour day month weekday, e.g. '0 3 * * *'") from exc


def next_runs(cron: str, timezone: str = "UTC", count: int = 3, start: datetime | None = None) -> list[datetime]:
    """The next ``count`` times ``cron`` fires after ``start`` (default: now)."""
    from prefect.server.schemas.schedules import CronSchedule as ServerCronSchedule

    cron_schedule(cron, timezone)  # the same validation and message as serving
    schedule = ServerCronSchedule(cron=cron, timezone=timezone)
    return list(asyncio.run(schedule.get_dates(n=count, start=start)))
