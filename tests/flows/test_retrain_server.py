"""A real Prefect server on 127.0.0.1, the retrain deployment served by `python -m
flows.retrain serve`, runs triggered through the API: the champion moves for a better
candidate and stays for a worse one and for a failing run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import mlflow
import pytest
from ivif_testkit import PROJECT_ROOT, SMALL_CNN, WEAK, contrast_fusion, subprocess_env

from ivif.registry import CHAMPION, log_and_register, move_alias, version_for_alias

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 150
RUN_TIMEOUT_S = 240
DEPLOYMENT = "test-retrain"
CRON = "0 3 * * *"
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def wait_for(condition, what: str, timeout_s: float, *logs: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-2500:]}" for log in logs if log.is_file())
    raise AssertionError(f"{what} not reached after {timeout_s}s\n{tails}")


def server_healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def seed_champion(project) -> str:
    """A weak model is the current champion before any served run."""
    with mlflow.start_run(run_name="seed-champion") as run:
        version = log_and_register(contrast_fusion(**WEAK), "cnn", run, model_kwargs=SMALL_CNN)
    move_alias(project.client(), "ivif-cnn", CHAMPION, version.version)
    return str(version.version)


@pytest.mark.slow  # a server, a runner and three flow-run processes: ~60-120 s on 2 cores
def test_served_retrain_moves_champion_only_for_a_better_candidate(retrain_project, tmp_path):
    from prefect.client.orchestration import SyncPrefectClient

    port = free_port()
    api = f"http://{HOST}:{port}/api"
    bin_dir = Path(sys.executable).parent
    prefect_env = {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_URL": api,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    env = subprocess_env(prefect_env)
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    server = start([str(bin_dir / "prefect"), "server", "start", "--host", HOST, "--port", str(port)], env, server_log, tmp_path)
    served = None
    try:
        seeded = seed_champion(retrain_project)
        wait_for(lambda: server_healthy(api), "prefect server health", STARTUP_TIMEOUT_S, server_log)
        served = start(
            [sys.executable, "-m", "flows.retrain", "serve", "--params", str(retrain_project.params),
             "--trainer", "scripted", "--no-refresh", "--name", DEPLOYMENT, "--cron", CRON],
            env, serve_log, PROJECT_ROOT,
        )
        with SyncPrefectClient(api) as client:
            deployment = wait_for(lambda: _deployment(client), "deployment registered", STARTUP_TIMEOUT_S, serve_log, server_log)
            assert deployment.schedules[0].schedule.cron == CRON  # the schedule is validated and stored, no tick needed
            assert deployment.global_concurrency_limit is not None and deployment.global_concurrency_limit.limit == 1

            def retrain(quality: str) -> str:
                run = client.create_flow_run_from_deployment(deployment.id, parameters={"overrides": [f"scripted.quality={quality}"]})
                state = wait_for(lambda: _final_state(client, run.id), f"{quality} run finished", RUN_TIMEOUT_S, serve_log)
                return state

            champion = lambda: str(version_for_alias(retrain_project.client(), "ivif-cnn", CHAMPION).version)  # noqa: E731

            assert retrain("strong") == "COMPLETED"
            better = champion()
            assert better != seeded, "a better candidate must become champion"

            assert retrain("weak") == "COMPLETED"
            assert champion() == better, "a worse candidate must not replace the champion"

            assert retrain("fail") == "FAILED"
            assert champion() == better, "a failing run must leave the champion untouched"
    finally:
        if served is not None:
            stop(served)
        stop(server)


def _deployment(client):
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(f"ivif-retrain/{DEPLOYMENT}")
    except ObjectNotFound:
        return None


def _final_state(client, run_id) -> str | None:
    state = client.read_flow_run(run_id).state
    return state.type.value if state is not None and state.type.value in FINAL_STATES else None
