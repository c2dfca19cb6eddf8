"""Cron schedules, validated before anything is served (no waiting for a tick to find a typo)."""

from __future__ import annotations

import asyncio
from datetime import datetime

EXAMPLE_CRON = "0 3 * * *"
EXAMPLE_TIMEZONE = "Europe/Berlin"
FIELD_NAMES = {"cron": "cron expression", "timezone": "time zone"}
HINTS = {
    "cron": f"; use five fields, minute hour day month weekday, e.g. {EXAMPLE_CRON!r} (--cron, retrain.cron)",
    "timezone": f"; use an IANA time zone name such as {EXAMPLE_TIMEZONE!r} or 'UTC' (--timezone, retrain.timezone)",
}


class ScheduleError(ValueError):
    """A cron expression or time zone Prefect would not accept."""


def _plain(message: str) -> str:
    """Pydantic's message without its 'Value error, ' prefix and Prefect's own example."""
    message = message.removeprefix("Value error, ")
    return message.split(" (specify in", 1)[0]


def cron_schedule(cron: str, timezone: str = "UTC"):
    """Prefect ``CronSchedule`` for ``cron`` in ``timezone``; ScheduleError if invalid."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        return CronSchedule(cron=cron, timezone=timezone)
    except ValidationError as exc:
        # Each hint goes with the field that is wrong: the cron hint never for a bad time zone.
        problems = []
        for error in exc.errors():
            field = error["loc"][0] if error["loc"] else None
            hint = HINTS.get(field, "")
            problems.append(f"{FIELD_NAMES.get(field, field)}: {_plain(error['msg'])}{hint}")
        raise ScheduleError(f"invalid schedule {cron!r} in time zone {timezone!r}: " + "; ".join(problems)) from None


def next_runs(cron: str, timezone: str = "UTC", count: int = 3, start: datetime | None = None) -> list[datetime]:
    """The next ``count`` times ``cron`` fires after ``start`` (default: now)."""
    from prefect.server.schemas.schedules import CronSchedule as ServerCronSchedule

    cron_schedule(cron, timezone)  # the same validation and message as serving
    schedule = ServerCronSchedule(cron=cron, timezone=timezone)
    return list(asyncio.run(schedule.get_dates(n=count, start=start)))
