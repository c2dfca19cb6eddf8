"""A real Prefect server on 127.0.0.1, the retrain deployment served by `python -m
flows.retrain serve`, runs triggered through the API: the champion moves for a better
candidate and stays for a worse one and for a failing run; run parameters cannot pick
another project or DVC stages; a SIGKILLed retrain does not keep the concurrency slot."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import mlflow
import pytest
import yaml
from ivif_testkit import PROJECT_ROOT, SMALL_CNN, WEAK, contrast_fusion, subprocess_env
from scripted_trainer import SCRIPTED_OVERRIDES

from ivif.orchestration.project import OVERRIDES_ENV
from ivif.registry import CHAMPION, log_and_register, move_alias, version_for_alias

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 150
RUN_TIMEOUT_S = 240
DEPLOYMENT = "test-retrain"
CRON = "0 3 * * *"
WAIT_AFTER_KILL_S = 45  # < Prefect's shortest lease (60 s): only a prompt release lets the next run in
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


@dataclass(frozen=True)
class Server:
    api: str
    env: dict
    log: Path
    folder: Path


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """`prefect server start` on a free port (its repossessor expires dead leases)."""
    folder = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    api = f"http://{HOST}:{port}/api"
    bin_dir = Path(sys.executable).parent
    prefect_env = {
        "PREFECT_HOME": str(folder / "prefect"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_URL": api,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        OVERRIDES_ENV: SCRIPTED_OVERRIDES,
    }
    env = subprocess_env(prefect_env)
    log = folder / "server.log"
    server = start([str(bin_dir / "prefect"), "server", "start", "--host", HOST, "--port", str(port)], env, log, folder)
    try:
        wait_for(lambda: server_healthy(api), "prefect server health", STARTUP_TIMEOUT_S, log)
        yield Server(api, env, log, folder)
    finally:
        stop(server)


@contextlib.contextmanager
def served_deployment(server: Server, project, log: Path):
    """`python -m flows.retrain serve` bound to ``project``; yields (client, deployment)."""
    from prefect.client.orchestration import SyncPrefectClient

    served = start(
        [sys.executable, "-m", "flows.retrain", "serve", "--params", str(project.params),
         "--trainer", "scripted", "--no-refresh", "--name", DEPLOYMENT, "--cron", CRON],
        server.env, log, PROJECT_ROOT,
    )  # fmt: skip
    try:
        with SyncPrefectClient(server.api) as client:
            deployment = wait_for(lambda: _deployment(client), "deployment registered", STARTUP_TIMEOUT_S, log, server.log)
            yield client, deployment
    finally:
        stop(served)


@pytest.mark.slow  # a server, a runner and three flow-run processes: ~60-120 s on 2 cores
def test_served_retrain_moves_champion_only_for_a_better_candidate(prefect_server, retrain_project, tmp_path):
    seeded = seed_champion(retrain_project)
    serve_log = tmp_path / "serve.log"
    with served_deployment(prefect_server, retrain_project, serve_log) as (client, deployment):
        assert deployment.schedules[0].schedule.cron == CRON  # the schedule is validated and stored, no tick needed
        assert deployment.global_concurrency_limit is not None and deployment.global_concurrency_limit.limit == 1
        assert set(deployment.parameters) == {"overrides", "trainer", "refresh"}, "no parameter names a project"

        def retrain(quality: str) -> str:
            run = client.create_flow_run_from_deployment(deployment.id, parameters={"overrides": [f"scripted.quality={quality}"]})
            return wait_for(lambda: _final_state(client, run.id), f"{quality} run finished", RUN_TIMEOUT_S, serve_log).type.value

        def champion() -> str:
            return str(version_for_alias(retrain_project.client(), "ivif-cnn", CHAMPION).version)

        assert retrain("strong") == "COMPLETED"
        better = champion()
        assert better != seeded, "a better candidate must become champion"

        assert retrain("weak") == "COMPLETED"
        assert champion() == better, "a worse candidate must not replace the champion"

        assert retrain("fail") == "FAILED"
        assert champion() == better, "a failing run must leave the champion untouched"


@pytest.mark.slow
def test_a_deployment_run_cannot_choose_another_project_or_stages(prefect_server, retrain_project, tmp_path):
    """The two command-execution attempts of issue 13 through the served deployment."""
    from prefect.exceptions import PrefectHTTPStatusError

    marker = tmp_path / "PWNED"
    touch = f"{sys.executable} -c \"import pathlib; pathlib.Path(r'{marker}').touch()\""
    pipeline = yaml.safe_dump({"stages": {"fetch": {"cmd": touch, "always_changed": True}, "pwn": {"cmd": touch, "always_changed": True}}})
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "dvc.yaml").write_text(pipeline)
    (evil / "params.yaml").write_text(
        yaml.safe_dump({**yaml.safe_load(retrain_project.params.read_text()), "retrain": {"data_stages": ["fetch"], "manifest_stages": []}})
    )
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=evil, check=True)
    planted = retrain_project.root / "data" / "raw" / "tno"
    planted.mkdir(parents=True)
    (planted / "dvc.yaml").write_text(pipeline)

    serve_log = tmp_path / "serve.log"
    with served_deployment(prefect_server, retrain_project, serve_log) as (client, deployment):
        try:  # --param params_path=<evil>/params.yaml
            run = client.create_flow_run_from_deployment(
                deployment.id, parameters={"params_path": str(evil / "params.yaml"), "refresh": True}
            )
        except PrefectHTTPStatusError as exc:
            assert "params_path" in exc.response.text
        else:
            state = wait_for(lambda: _final_state(client, run.id), "params_path run finished", RUN_TIMEOUT_S, serve_log)
            assert state.type.value == "FAILED" and "a run cannot choose its project" in state.message

        attack = ["retrain.data_stages=[data/raw/tno/dvc.yaml:pwn]", "retrain.manifest_stages=[]"]
        run = client.create_flow_run_from_deployment(deployment.id, parameters={"overrides": attack, "refresh": True})
        state = wait_for(lambda: _final_state(client, run.id), "overrides run finished", RUN_TIMEOUT_S, serve_log)
        assert state.type.value == "FAILED"
        assert "'retrain.data_stages' may not be changed by a run" in state.message
    assert not marker.exists(), "a run parameter executed a command"
    assert retrain_project.client().search_registered_models() == []


def scripted_run_command(params_path) -> list[str]:
    """`python -m flows.retrain run` of the project with the scripted trainer, no data refresh."""
    return [sys.executable, "-m", "flows.retrain", "run", "--params", str(params_path), "--trainer", "scripted", "--no-refresh"]


def shorten_lock_wait(params_path) -> None:
    """A retrain waits WAIT_AFTER_KILL_S for the slot (shorter than any lease Prefect grants)."""
    params = yaml.safe_load(params_path.read_text())
    params["retrain"]["lock_timeout_s"] = WAIT_AFTER_KILL_S
    params_path.write_text(yaml.safe_dump(params))


@pytest.mark.slow
def test_a_killed_retrain_does_not_keep_the_slot(prefect_server, retrain_project, tmp_path):
    """SIGKILL a retrain that holds the concurrency slot; the next one starts and succeeds
    (its wait, retrain.lock_timeout_s, is shorter than any lease Prefect grants)."""
    from prefect.client.orchestration import SyncPrefectClient

    shorten_lock_wait(retrain_project.params)
    started = tmp_path / "started"
    command = scripted_run_command(retrain_project.params)
    blocker = start(
        [*command, "scripted.quality=block", f"scripted.started={started}"], prefect_server.env, tmp_path / "blocker.log", PROJECT_ROOT
    )
    with SyncPrefectClient(prefect_server.api) as client:

        def active_slots() -> int:
            return client.read_global_concurrency_limit_by_name("ivif-retrain").active_slots

        try:
            wait_for(started.is_file, "blocking retrain holds the slot", RUN_TIMEOUT_S, tmp_path / "blocker.log")
            assert active_slots() == 1
        finally:
            os.killpg(blocker.pid, signal.SIGKILL)
            blocker.wait(timeout=30)
        assert active_slots() == 1, "the killed retrain's slot is still counted until someone notices"

        began = time.monotonic()
        done = subprocess.run([*command, "scripted.quality=strong"], env=prefect_server.env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_S)  # fmt: skip
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        assert "promoted" in done.stdout and time.monotonic() - began < RUN_TIMEOUT_S
        assert active_slots() == 0
    assert version_for_alias(retrain_project.client(), "ivif-cnn", CHAMPION) is not None


def _deployment(client):
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(f"ivif-retrain/{DEPLOYMENT}")
    except ObjectNotFound:
        return None


def _final_state(client, run_id):
    state = client.read_flow_run(run_id).state
    return state if state is not None and state.type.value in FINAL_STATES else None


@pytest.mark.slow  # three processes, each with its own ephemeral Prefect API
def test_a_killed_retrain_without_a_server_does_not_keep_the_slot(retrain_project, tmp_path):
    """`python -m flows.retrain run` without a Prefect server: the lease lived in an
    ephemeral API that died with the process, so no TTL would ever free the slot."""
    shorten_lock_wait(retrain_project.params)
    env = subprocess_env({"PREFECT_HOME": str(tmp_path / "prefect"), OVERRIDES_ENV: SCRIPTED_OVERRIDES})
    env.pop("PREFECT_API_URL", None)
    started = tmp_path / "started"
    command = scripted_run_command(retrain_project.params)
    blocker = start([*command, "scripted.quality=block", f"scripted.started={started}"], env, tmp_path / "blocker.log", PROJECT_ROOT)
    try:
        wait_for(started.is_file, "blocking retrain holds the slot", RUN_TIMEOUT_S, tmp_path / "blocker.log")
    finally:
        os.killpg(blocker.pid, signal.SIGKILL)
        blocker.wait(timeout=30)
    done = subprocess.run(
        [*command, "scripted.quality=strong"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "promoted" in done.stdout
    assert "died holding concurrency limit 'ivif-retrain'; gave back its slots" in done.stdout + done.stderr
