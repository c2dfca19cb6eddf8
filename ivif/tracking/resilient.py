"""Tracking that a flaky store cannot turn into a failed training.

- :func:`preflight`: an HTTP store that does not answer fails in seconds, naming its URI,
  before anything starts (MLflow's own client retries for minutes).
- :func:`with_retries`: one call retried with exponential backoff (run start and end).
- :class:`MetricBuffer`: metrics go to the store when it answers and wait in memory when it
  does not (a locked sqlite file, an HTTP error). Training never sleeps for it: after a
  failure the next attempt waits for a backoff interval, values logged meanwhile are kept,
  and everything pending is written, in order, at the next successful attempt or by
  :meth:`MetricBuffer.flush` at the end. One warning when the store first fails, one
  line when it is back.
- :func:`owner_tags` / :func:`sweep_dead_runs`: each run records the process that owns it;
  a ``RUNNING`` run whose process is gone from this host is marked ``KILLED``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

PREFLIGHT_TIMEOUT_S = 5.0  # one HTTP probe; well under the 15 s an unreachable store may cost
HTTP_SCHEMES = ("http://", "https://")
OWNER_TAG = "ivif.owner"  # "<host>:<pid>:<process start>" of the process running the run
MLFLOW_DB_LOGGER = "mlflow.store.db.utils"  # logs a full traceback for every failed sqlite call
MAX_BATCH = 1000  # MLflow's limit of metrics per log_batch call
_PROC_STAT = "/proc/{pid}/stat"
# /proc/<pid>/stat after the ")" closing the command name: [0] state, [19] start time in ticks
_STATE_INDEX, _STARTTIME_INDEX = 0, 19
_ZOMBIE = "Z"


class TrackingUnavailable(RuntimeError):
    """The tracking store does not answer; the message names its URI and the fix."""


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts: ``base_s * 2**n``, capped at ``max_s``."""

    base_s: float = 1.0
    max_s: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.base_s * 2 ** max(failures - 1, 0), self.max_s)


def preflight(uri: str, timeout_s: float = PREFLIGHT_TIMEOUT_S) -> None:
    """Fail fast if the HTTP tracking server at ``uri`` does not answer (any HTTP reply counts).

    Local stores (sqlite, file) need no probe.
    """
    if not uri.startswith(HTTP_SCHEMES):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout_s):
            return
    except urllib.error.HTTPError:
        return  # it answered
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingUnavailable(
            f"MLflow tracking store {uri} is unreachable ({reason}); start that server, or unset "
            "MLFLOW_TRACKING_URI to use tracking.store of params.yaml"
        ) from None


def with_retries(call: Callable[[], T], what: str, attempts: int = 4, backoff: Backoff = Backoff(0.5, 8.0)) -> T:
    """``call()``, retried ``attempts`` times in all with backoff; the last error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - a store error of any kind (sqlite, HTTP, MLflow)
            if attempt == attempts:
                raise
            delay = backoff.delay(attempt)
            logger.info("tracking: %s failed (%s); retry %d/%d in %.1f s", what, _short(exc), attempt, attempts - 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


@dataclass
class MetricBuffer:
    """Metrics of one run, written when the store answers and kept while it does not."""

    client: object  # mlflow.MlflowClient
    run_id: str
    uri: str
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.monotonic
    pending: list = field(default_factory=list)
    failures: int = 0
    next_try: float = 0.0

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        """Queue ``metrics`` at ``step`` and write the queue if the store is due a try."""
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        self.pending.extend(Metric(key, float(value), stamp, step) for key, value in metrics.items())
        if self.clock() >= self.next_try:
            self._try_flush()

    def flush(self, budget_s: float = 60.0) -> bool:
        """Write everything pending, retrying for up to ``budget_s``; True if nothing is left."""
        deadline = self.clock() + budget_s
        while self.pending and not self._try_flush():
            wait = min(self.backoff.delay(self.failures), deadline - self.clock())
            if wait <= 0:
                logger.warning(
                    "tracking: %d metric values of run %s could not be written to %s; the model is trained and "
                    "checkpointed, only those values are missing from the run",
                    len(self.pending), self.run_id, self.uri,
                )  # fmt: skip
                return False
            time.sleep(wait)
        return True

    def _try_flush(self) -> bool:
        try:
            with _quiet_store_errors():
                while self.pending:
                    batch = self.pending[:MAX_BATCH]
                    self.client.log_batch(self.run_id, metrics=batch)
                    del self.pending[: len(batch)]
        except Exception as exc:  # noqa: BLE001 - any store error: keep the values, keep training
            self.failures += 1
            self.next_try = self.clock() + self.backoff.delay(self.failures)
            if self.failures == 1:
                logger.warning(
                    "tracking: writing metrics to %s failed (%s); training continues, metrics are kept and written when the store answers",
                    self.uri, _short(exc),
                )  # fmt: skip
            return False
        if self.failures:
            logger.warning("tracking: %s answers again; pending metrics written", self.uri)
        self.failures, self.next_try = 0, 0.0
        return True


@contextlib.contextmanager
def _quiet_store_errors() -> Iterator[None]:
    """Mute MLflow's own traceback for a failed store call (this module warns once instead)."""
    store_logger = logging.getLogger(MLFLOW_DB_LOGGER)
    previous = store_logger.level
    store_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        store_logger.setLevel(previous)


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


# ---------------------------------------------------------------- run ownership
def process_identity(pid: int | None = None) -> str:
    """``<host>:<pid>:<start ticks>`` of a process (start ticks guard against pid reuse)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or ''}"


def owner_tags() -> dict[str, str]:
    """Tags that tie a run to the process running it."""
    return {OWNER_TAG: process_identity()}


def owner_alive(owner: str) -> bool | None:
    """Whether the process named by an :data:`OWNER_TAG` value lives; None if it is on another host."""
    host, _, rest = owner.partition(":")
    pid_text, _, ticks = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    current = _start_ticks(int(pid_text))
    if current is None:
        return False
    return not ticks or ticks == current


def sweep_dead_runs(client, experiment_ids: list[str] | None = None) -> list[str]:
    """Mark ``KILLED`` every ``RUNNING`` run owned by a process of this host that is gone.

    Returns the run ids it marked. Runs without an owner tag, or owned on another host,
    are left alone.
    """
    ids = experiment_ids or [e.experiment_id for e in client.search_experiments()]
    if not ids:
        return []
    marked = []
    runs = client.search_runs(ids, filter_string=f"attributes.status = 'RUNNING' and tags.`{OWNER_TAG}` LIKE '{socket.gethostname()}:%'")
    for run in runs:
        if owner_alive(run.data.tags.get(OWNER_TAG, "")) is False:
            client.set_terminated(run.info.run_id, status="KILLED")
            marked.append(run.info.run_id)
    if marked:
        logger.warning("tracking: marked %d run(s) KILLED whose process died while RUNNING: %s", len(marked), ", ".join(marked))
    return marked


def sweep_quietly(client) -> list[str]:
    """:func:`sweep_dead_runs` that only logs if the store cannot be swept now."""
    try:
        return sweep_dead_runs(client)
    except Exception as exc:  # noqa: BLE001 - housekeeping never stops the caller
        logger.info("tracking: could not check for runs left RUNNING (%s)", _short(exc))
        return []


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks ('' where /proc is missing); None if it is gone."""
    if not Path(_PROC_STAT.format(pid="self")).is_file():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # exists, owned by someone else
        return ""
    try:
        fields = Path(_PROC_STAT.format(pid=pid)).read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return None
    if fields and fields[_STATE_INDEX] == _ZOMBIE:
        return None  # dead, not yet reaped
    return fields[_STARTTIME_INDEX] if len(fields) > _STARTTIME_INDEX else ""
