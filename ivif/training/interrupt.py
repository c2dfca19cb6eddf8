"""Stop a run cleanly on SIGTERM or SIGINT: finish the step, checkpoint it, exit.

Schedulers stop jobs with SIGTERM (Prefect cancelling a flow run, a batch system's
time limit, ``docker stop``) and people with Ctrl-C. Without a handler the work since
the last periodic checkpoint is lost. With :class:`StopRequest` installed, the first
such signal only sets a flag; the engine checks it after every step, saves the state
of that step and returns, so ``--resume`` continues from exactly there. The previous
handlers come back at once, so a second signal acts as it always does (a second
Ctrl-C raises ``KeyboardInterrupt``).

Installed only in the main thread (Python delivers signals there, and ``signal``
refuses other threads) and only for single-process runs: under ``torchrun`` each rank
would stop at its own step and leave the others waiting in a collective, so there the
signals keep their default behaviour and resume uses the last periodic checkpoint.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGTERM, signal.SIGINT)
EXIT_CODE_BASE = 128  # shells report death by signal N as 128 + N; entry points keep that convention for a clean stop


class StopRequest:
    """Whether a stop signal has arrived since :meth:`installed` was entered."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None

    @property
    def requested(self) -> bool:
        return self.signal is not None

    @contextlib.contextmanager
    def installed(self, enabled: bool = True) -> Iterator[StopRequest]:
        """Catch the first SIGTERM/SIGINT within the block (see the module docstring)."""
        if not enabled or threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {signum: signal.getsignal(signum) for signum in SIGNALS}

        def restore() -> None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

        def request_stop(signum: int, frame) -> None:
            self.signal = signal.Signals(signum)
            restore()

        for signum in SIGNALS:
            signal.signal(signum, request_stop)
        try:
            yield self
        finally:
            restore()
