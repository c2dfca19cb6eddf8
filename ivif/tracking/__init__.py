"""The MLflow tracking store: which store (``tracking:`` params, ``MLFLOW_TRACKING_URI``),
reaching it (fail fast when it does not answer) and writing to it without letting a
failing store stop the work (retries, buffered metrics, stale-run sweeps).

A layer below training and the registry: both record into the same store.
"""

from ivif.tracking.store import TrackingConfig, configure_tracking, resolve_tracking_uri, use_store, using_store

__all__ = ["TrackingConfig", "configure_tracking", "resolve_tracking_uri", "use_store", "using_store"]
