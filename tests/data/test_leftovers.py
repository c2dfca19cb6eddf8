"""A killed `ivif data cache` leaves nothing that matters: its temporary is hidden,
ignored by DVC (the project's .dvcignore) and swept by the next run.

Real DVC on a scratch copy of the project, real SIGKILL of the real command.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ivif.io.atomic import is_temp_name

UP_TO_DATE = "Data and pipelines are up to date."
KILL_ATTEMPTS = 3
POLL_S = 0.001


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        "DO_NOT_TRACK": "1",
    }


def _run(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


@pytest.fixture
def repo(tmp_path, project_root) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy2(project_root / name, repo / name)
    shutil.copytree(project_root / "data" / "sample", repo / "data" / "sample")
    shutil.copytree(
        project_root / "ivif",
        repo / "ivif",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    dvc = str(Path(sys.executable).parent / "dvc")
    _run(["git", "init", "-q"], repo)
    _run([dvc, "init", "-q"], repo)
    _run([dvc, "config", "core.analytics", "false"], repo)
    shutil.copy2(
        project_root / ".dvcignore", repo / ".dvcignore"
    )  # the project's patterns, over dvc init's
    # A stand-in for the stages downstream of the caches (pairs, train): it depends on
    # data/cache as they do, and reruns exactly when they would.
    pipeline = yaml.safe_load((repo / "dvc.yaml").read_text())
    pipeline["stages"]["consume"] = {
        "cmd": f"{sys.executable} -c \"open('consumed.txt', 'w').write('x')\"",
        "deps": ["data/cache"],
        "outs": ["consumed.txt"],
    }
    (repo / "dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    return repo


def _kill_cache_build_midway(repo: Path) -> list[Path]:
    """Start `ivif data cache sample`, SIGKILL it once its temporary folder exists."""
    ivif = str(Path(sys.executable).parent / "ivif")
    args = [
        ivif,
        "data",
        "cache",
        "sample",
        "--shards",
        "data/shards/sample",
        "--out",
        "data/cache/sample",
        "--no-progress",
    ]
    for _ in range(KILL_ATTEMPTS):
        proc = subprocess.Popen(
            args,
            cwd=repo,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while proc.poll() is None:
            temps = [
                p for p in (repo / "data" / "cache").iterdir() if is_temp_name(p.name)
            ]
            if temps:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return temps
            time.sleep(POLL_S)
    pytest.fail(
        f"`ivif data cache` finished {KILL_ATTEMPTS} times before it could be killed"
    )


@pytest.mark.slow
def test_killed_cache_build_leaves_dvc_up_to_date_and_is_swept(repo):
    dvc = str(Path(sys.executable).parent / "dvc")
    _run([dvc, "repro", "consume"], repo)
    assert UP_TO_DATE in _run([dvc, "status", "consume"], repo)

    temps = _kill_cache_build_midway(repo)

    assert all(p.exists() and p.name.startswith(".sample.ivif-tmp-") for p in temps)
    assert UP_TO_DATE in _run(
        [dvc, "status", "consume"], repo
    )  # no stage downstream of data/cache reruns
    _run(
        [
            str(Path(sys.executable).parent / "ivif"),
            "data",
            "cache",
            "sample",
            "--no-progress",
        ],
        repo,
    )
    assert not any(
        p.exists() for p in temps
    )  # swept by the next run of the same command
    assert not [p for p in (repo / "data" / "cache").iterdir() if is_temp_name(p.name)]
