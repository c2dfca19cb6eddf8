"""The ``retrain:`` section of ``params.yaml`` (``flows/retrain.py``)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CRON = "0 3 * * *"  # nightly at 03:00
MIN_LEASE_S = 60.0  # the Prefect server refuses shorter concurrency leases


@dataclass(frozen=True)
class RetrainConfig:
    """How a scheduled retrain refreshes data, trains, and is kept from overlapping."""

    data_stages: tuple[str, ...] = ("fetch", "shard", "cache")
    """``dvc repro`` targets that refresh the data (retried: fetching is the flaky part)."""
    manifest_stages: tuple[str, ...] = ("pairs",)
    """``dvc repro`` targets that rebuild the pairing manifests."""
    fetch_retries: int = 2
    """Extra attempts of the data refresh after a failure."""
    retry_delay_s: float = 60.0
    """Seconds between those attempts."""
    out_dir: str = "models/retrain"
    """Training runs go to ``<out_dir>/<model>-<paradigm>-<timestamp>`` (outside DVC's outputs)."""
    concurrency_limit: str = "ivif-retrain"
    """Prefect global concurrency limit (1 slot) every retrain holds while it runs."""
    lock_timeout_s: float = 3600.0
    """How long a retrain waits for a running one to finish before it fails."""
    lease_s: float = 90.0
    """TTL of the slot's lease (renewed while the retrain lives): a retrain that dies
    without releasing its slot stops holding it after this long at the latest (Prefect's
    server accepts leases of 60 s or more)."""
    cron: str = DEFAULT_CRON
    """Default schedule of ``python -m flows.retrain serve`` (``--cron`` overrides)."""
    timezone: str = "UTC"
    """Time zone the cron expression is read in."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_stages", tuple(self.data_stages))
        object.__setattr__(self, "manifest_stages", tuple(self.manifest_stages))
        if self.fetch_retries < 0 or self.retry_delay_s < 0:
            raise ValueError("retrain.fetch_retries and retrain.retry_delay_s must be >= 0")
        if self.lock_timeout_s <= 0:
            raise ValueError(f"retrain.lock_timeout_s must be > 0, got {self.lock_timeout_s}")
        if self.lease_s < MIN_LEASE_S:
            raise ValueError(f"retrain.lease_s must be >= {MIN_LEASE_S:g} (Prefect's shortest lease), got {self.lease_s}")
        if not self.concurrency_limit:
            raise ValueError("retrain.concurrency_limit must name a Prefect global concurrency limit")
