"""Progress of long loops: a tqdm bar on a terminal, a few log lines otherwise.

On an interactive stderr, :func:`progress_bar` is a tqdm bar (on stderr, one line that
updates in place). With progress turned off (``--no-progress``, as the DVC stages run)
or with stderr not a terminal, it logs through :mod:`logging` instead: one line at most
every :data:`LOG_INTERVAL_S` seconds and one when the loop ends, never a line per step.
Both offer the part of tqdm's API the library uses: ``update``, ``set_postfix``,
iteration, and use as a context manager.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

LOG_INTERVAL_S = 30.0  # seconds between two progress log lines


class LogProgress:
    """tqdm-like counter that logs ``desc: n/total unit (p%), elapsed, postfix`` now and then."""

    def __init__(
        self,
        iterable: Iterable | None = None,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        initial: int = 0,
        interval_s: float = LOG_INTERVAL_S,
        log: logging.Logger = logger,
    ):
        self.iterable = iterable
        self.total = total if total is not None else _length(iterable)
        self.desc, self.unit, self.n = desc, unit, initial
        self.interval_s, self.log = interval_s, log
        self.postfix: dict[str, Any] = {}
        self.start = self._last = time.monotonic()
        self._closed = False

    def __iter__(self) -> Iterator:
        if self.iterable is None:
            raise TypeError("LogProgress without an iterable cannot be iterated; call update() instead")
        for item in self.iterable:
            yield item
            self.update(1)
        self.close()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            self.log.info("%s", self.line())

    def set_postfix(self, **values: Any) -> None:
        self.postfix = {**self.postfix, **values}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.log.info("%s", self.line(done=True))

    def line(self, done: bool = False) -> str:
        """The text of one progress line."""
        elapsed = time.monotonic() - self.start
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        percent = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        postfix = "".join(f", {key}={value}" for key, value in self.postfix.items())
        state = "running" if not done else "done" if not self.total or self.n >= self.total else "stopped"
        return f"{self.desc}: {state}, {count} {self.unit}{percent} in {elapsed:.0f}s{postfix}"


def progress_bar(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    initial: int = 0,
    enabled: bool = True,
    silent: bool = False,
):
    """A tqdm bar on stderr when ``enabled`` and stderr is a terminal, else :class:`LogProgress`.

    ``silent`` reports nothing at all (a disabled tqdm: e.g. the non-zero ranks of a
    distributed run).
    """
    if silent:
        from tqdm import tqdm

        return tqdm(iterable, total=total, initial=initial, disable=True)
    if enabled and _interactive():
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, file=sys.stderr, dynamic_ncols=True)
    return LogProgress(iterable, total=total, desc=desc, unit=unit, initial=initial)


def _interactive() -> bool:
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def _length(iterable: Iterable | None) -> int | None:
    try:
        return len(iterable)  # type: ignore[arg-type]
    except TypeError:
        return None
