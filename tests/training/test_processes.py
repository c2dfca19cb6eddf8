"""Training as real processes: killed by a signal and resumed, and DDP under torchrun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from ivif_testkit import PROJECT_ROOT

from ivif.models.checkpoint import load_checkpoint
from ivif.training.checkpoint import load_state

POLL_S = 0.05
PROCESS_TIMEOUT_S = 240


def _env() -> dict[str, str]:
    # One thread per process: reproducible and not slowed by oversubscription.
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


def _train_cmd(params: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ivif", "train", "--params", str(params), "--out", str(out), "--no-track", "--no-progress", *extra]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _signal_after_first_checkpoint(cmd: list[str], cwd: Path, state_file: Path, stop_signal: int, env=None, **popen) -> subprocess.Popen:
    """Start ``cmd``, wait until it has written ``state_file``, then send it ``stop_signal``."""
    process = subprocess.Popen(cmd, cwd=cwd, env=env or _env(), **popen)
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while not state_file.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert process.poll() is None, "the run ended before it could be signalled"
    process.send_signal(stop_signal)
    return process


def _assert_resumed_equals_straight(straight_dir: Path, resumed_dir: Path, steps: int) -> None:
    straight = load_checkpoint(straight_dir / "model.pt")
    resumed = load_checkpoint(resumed_dir / "model.pt")
    assert straight["step"] == resumed["step"] == steps
    assert all(torch.equal(straight["model"][k], resumed["model"][k]) for k in straight["model"])


@pytest.mark.slow
def test_killed_with_sigkill_and_resumed_equals_uninterrupted(tiny_project):
    root = tiny_project.parent
    run = ("train.max_steps=null", "train.epochs=4", "train.ckpt_every=1", "train.log_every=8")  # 32 steps
    _run(_train_cmd(tiny_project, root / "straight", *run), root)

    out = root / "killed"
    state_file = out / "checkpoints" / "last.pt"
    process = _signal_after_first_checkpoint(
        _train_cmd(tiny_project, out, *run), root, state_file, signal.SIGKILL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    killed_at = load_state(state_file)["step"]  # atomic writes: always a whole checkpoint
    assert 1 <= killed_at < 32

    _run(_train_cmd(tiny_project, out, *run, "--resume"), root)
    _assert_resumed_equals_straight(root / "straight", out, 32)
    assert (root / "straight" / "loss.csv").read_text() == (out / "loss.csv").read_text()


@pytest.mark.slow
def test_two_process_gloo_ddp_under_torchrun(tiny_project):
    # The GAN exercises both DDP-wrapped networks (generator and discriminator).
    root = tiny_project.parent
    out = root / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "ivif",
        "train",
        "--params",
        str(tiny_project),
        "--out",
        str(out),
        "--no-track",
        "--no-progress",
        "train.max_steps=null",
        "train.epochs=1",
        "train.log_every=2",
        "train.model=gan",
    ]
    result = _run(cmd, root)
    # aptp on 4 images: 16 pairs per epoch; each rank trains on its 8 -> 4 steps of batch 2
    # (a single process would take 8). Only rank 0 reports and writes.
    assert result.stdout.count("done at step 4/4") == 1, result.stdout
    checkpoint = load_checkpoint(out / "model.pt")
    assert checkpoint["step"] == 4
    assert all(torch.isfinite(t).all() for t in checkpoint["model"].values())


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_checkpoints_the_current_step_and_resume_equals_uninterrupted(tiny_project, stop_signal):
    root = tiny_project.parent
    run = ("train.max_steps=null", "train.epochs=4", "train.ckpt_every=8", "train.log_every=8")  # 32 steps
    _run(_train_cmd(tiny_project, root / "straight", *run), root)

    out = root / "stopped"
    state_file = out / "checkpoints" / "last.pt"
    process = _signal_after_first_checkpoint(
        _train_cmd(tiny_project, out, *run), root, state_file, stop_signal, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + stop_signal, stderr[-3000:]  # a clean exit that still reports the signal
    stopped_at = load_state(state_file)["step"]
    assert 8 <= stopped_at < 32
    assert f"{stop_signal.name} at step {stopped_at}/32" in stderr and "--resume" in stderr
    assert not (out / "model.pt").exists()  # an interrupted run publishes no model

    _run(_train_cmd(tiny_project, out, *run, "--resume"), root)
    _assert_resumed_equals_straight(root / "straight", out, 32)


@pytest.mark.slow
def test_prefect_training_flow_stopped_by_sigterm_fails_with_the_resume_hint(tiny_project):
    import mlflow

    root = tiny_project.parent
    out = root / "flow"
    store = f"sqlite:///{root / 'mlflow.db'}"
    env = {**_env(), "MLFLOW_TRACKING_URI": store, "MLFLOW_REGISTRY_URI": store, "PREFECT_HOME": str(root / "prefect")}
    run = ("train.max_steps=null", "train.epochs=4", "train.ckpt_every=8", "train.log_every=8")  # 32 steps
    cmd = [sys.executable, "-m", "flows.train", "--params", str(tiny_project), "--out", str(out), *run]
    state_file = out / "checkpoints" / "last.pt"
    process = _signal_after_first_checkpoint(
        cmd, PROJECT_ROOT, state_file, signal.SIGTERM, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0, output[-3000:]
    stopped_at = load_state(state_file)["step"]
    assert f"interrupted by SIGTERM at step {stopped_at}/32" in output and "resume=True" in output, output[-3000:]
    client = mlflow.MlflowClient(store, registry_uri=store)  # not the registry an earlier test left set in this process
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert [r.info.status for r in runs] == ["KILLED"]  # not FINISHED: resume continues this run
    assert not client.search_registered_models()  # nothing published
