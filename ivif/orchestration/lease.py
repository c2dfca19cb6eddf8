"""A retrain's slot in a Prefect global concurrency limit that cannot outlive its process.

The slot is taken with a Prefect lease (``lease_s``, renewed by Prefect's heartbeat thread
while the process lives), so a hosted Prefect server frees it by itself within
``lease_s`` plus its repossessor's interval once the process dies. Two cases a TTL alone
does not cover are handled here, from a holder file in the project that the holding
process keeps locked (``flock``: the kernel drops the lock when the process dies):

- the next retrain of the project finds the file unlocked but filled in, so its writer
  died holding the slot: it releases that lease at once instead of waiting for the TTL;
- under Prefect's ephemeral API (no ``PREFECT_API_URL``: ``python -m flows.retrain run``
  without a server) leases live in the memory of a server that died with the process and
  nothing ever expires them; the dead holder's slots are then given back by count.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

HOLDER_FILE = ".slot-{limit}.json"
LEASE_GONE = (404, 410)  # the server's answers for an expired or unknown lease
POLL_S = 1.0  # how often a waiting retrain retries the project's holder lock


class SlotTimeout(TimeoutError):
    """Another retrain held the slot for longer than ``lock_timeout_s``."""


@dataclass(frozen=True)
class Holder:
    """Who holds the slot: written into the holder file once the lease is taken."""

    limit: str
    slots: int
    lease_id: str
    ephemeral: bool
    pid: int
    host: str
    since: float


def holder_path(state_dir: str | Path, limit: str) -> Path:
    return Path(state_dir) / HOLDER_FILE.format(limit=limit)


def ephemeral_api() -> bool:
    """True when Prefect runs its in-process ephemeral API (no ``PREFECT_API_URL``)."""
    from prefect.settings import PREFECT_API_URL

    return not PREFECT_API_URL.value()


@contextlib.contextmanager
def held_slot(limit: str, state_dir: str | Path, *, slots: int = 1, timeout_s: float, lease_s: float) -> Iterator[Holder]:
    """Hold ``slots`` of Prefect limit ``limit`` for the body; free it on exit or death.

    Raises SlotTimeout when the slot is not free within ``timeout_s``.
    """
    from prefect.concurrency._leases import maintain_concurrency_lease
    from prefect.concurrency._sync import (
        acquire_concurrency_slots_with_lease,
        release_concurrency_slots_with_lease,
    )

    path = holder_path(state_dir, limit)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    with _locked(path, deadline, limit) as handle:
        reclaim_dead_holder(handle)
        remaining = max(deadline - time.monotonic(), POLL_S)
        try:
            response = acquire_concurrency_slots_with_lease([limit], slots, timeout_seconds=remaining, lease_duration=lease_s, strict=True)
        except TimeoutError as exc:
            raise SlotTimeout(
                f"concurrency limit {limit!r}: no free slot within {timeout_s:g} s (retrain.lock_timeout_s); another retrain is running"
            ) from exc
        holder = Holder(limit, slots, str(response.lease_id), ephemeral_api(), os.getpid(), socket.gethostname(), time.time())
        _write(handle, json.dumps(asdict(holder)))
        try:
            with maintain_concurrency_lease(response.lease_id, lease_s, raise_on_lease_renewal_failure=False):
                yield holder
        finally:
            release_concurrency_slots_with_lease(response.lease_id)
            _write(handle, "")


def reclaim_dead_holder(handle) -> bool:
    """Free the slot a dead retrain left behind (the caller holds the file's lock). True if one was."""
    from prefect.client.orchestration import get_client

    handle.seek(0)
    text = handle.read().strip()
    if not text:
        return False
    holder = Holder(**json.loads(text))
    with get_client(sync_client=True) as client:
        if _lease_alive(client, holder):
            from prefect.concurrency._sync import release_concurrency_slots_with_lease

            release_concurrency_slots_with_lease(holder.lease_id)
            how = "released its lease"
        elif holder.ephemeral:
            # The ephemeral server that kept the lease died with the process: nobody will
            # ever expire it, so give the slots back by count.
            client.release_concurrency_slots([holder.limit], holder.slots, occupancy_seconds=max(time.time() - holder.since, 1.0))
            how = "gave back its slots (its ephemeral server's lease died with it)"
        else:
            how = "its lease had already expired"
    logger.warning("retrain pid %s on %s died holding concurrency limit %r; %s", holder.pid, holder.host, holder.limit, how)
    _write(handle, "")
    return True


def _lease_alive(client, holder: Holder) -> bool:
    from uuid import UUID

    from prefect.exceptions import PrefectHTTPStatusError

    try:
        client.renew_concurrency_lease(lease_id=UUID(holder.lease_id), lease_duration=60)
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code in LEASE_GONE:
            return False
        raise
    return True


@contextlib.contextmanager
def _locked(path: Path, deadline: float, limit: str):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SlotTimeout(
                        f"concurrency limit {limit!r}: a retrain of this project still runs (holder {path}); retrain.lock_timeout_s passed"
                    ) from None
                time.sleep(POLL_S)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(handle, text: str) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(text)
    handle.flush()
    os.fsync(handle.fileno())
