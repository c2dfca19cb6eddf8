from pathlib import Path

import pytest

from ivif.tracking.store import TrackingConfig, absolute_store_uri, local_artifact_root, resolve_tracking_uri


def test_environment_variable_wins_over_params(tmp_path):
    env = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    assert resolve_tracking_uri("sqlite:///mlflow.db", tmp_path, environ=env) == "http://127.0.0.1:5000"


def test_relative_sqlite_store_is_resolved_against_the_project(tmp_path):
    uri = resolve_tracking_uri("sqlite:///stores/mlflow.db", tmp_path, environ={})
    assert uri == f"sqlite:///{tmp_path.resolve()}/stores/mlflow.db"
    assert Path(uri.removeprefix("sqlite:///")).is_absolute()


def test_absolute_and_remote_stores_are_unchanged(tmp_path):
    assert absolute_store_uri("sqlite:////data/m.db", tmp_path) == "sqlite:////data/m.db"
    assert absolute_store_uri("http://tracking:5000", tmp_path) == "http://tracking:5000"


def test_local_artifacts_sit_next_to_the_database():
    assert local_artifact_root("sqlite:////srv/ivif/mlflow.db") == "file:///srv/ivif/mlartifacts"
    assert local_artifact_root("http://tracking:5000") is None


def test_config_rejects_empty_values():
    with pytest.raises(ValueError, match="tracking.store"):
        TrackingConfig(store="")
    with pytest.raises(ValueError, match="tracking.experiment"):
        TrackingConfig(experiment="")


def test_configure_tracking_does_not_leak_into_the_environment(tmp_path, monkeypatch):
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; ivif must not let that export
    masquerade as the user's setting for the next store it resolves."""
    import os

    import mlflow

    from ivif.tracking.store import configure_tracking, use_store

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    previous = mlflow.get_tracking_uri()
    try:
        first = configure_tracking(TrackingConfig(experiment="a"), base_dir=tmp_path / "one")
        assert "MLFLOW_TRACKING_URI" not in os.environ
        assert mlflow.get_tracking_uri() == first == f"sqlite:///{(tmp_path / 'one').resolve()}/mlflow.db"
        second = resolve_tracking_uri("sqlite:///mlflow.db", tmp_path / "two")
        assert second.endswith("/two/mlflow.db")
    finally:
        use_store(previous)


def closed_port_uri() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_unreachable_http_store_fails_in_seconds_naming_it(tmp_path):
    import re
    import time

    from ivif.tracking.resilient import TrackingUnavailable
    from ivif.tracking.store import configure_tracking

    uri = closed_port_uri()
    began = time.monotonic()
    with pytest.raises(TrackingUnavailable, match=f"{re.escape(uri)} is unreachable"):
        configure_tracking(TrackingConfig(), base_dir=tmp_path, environ={"MLFLOW_TRACKING_URI": uri})
    assert time.monotonic() - began < 15


def test_preflight_accepts_any_http_answer_and_local_stores(tmp_path):
    import http.server
    import threading

    from ivif.tracking.resilient import preflight

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)  # answers 501
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        preflight(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
    preflight(f"sqlite:///{tmp_path}/mlflow.db")


def test_backoff_doubles_up_to_its_cap():
    from ivif.tracking.resilient import Backoff

    assert [Backoff(1.0, 5.0).delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
