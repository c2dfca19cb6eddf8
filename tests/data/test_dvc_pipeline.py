"""The real `dvc repro` of the data stages on the embedded sample, in a scratch copy.

Checks the Done-when of the data pipeline: the stages run, a second `dvc repro` does
nothing, `dvc status` is clean, and re-running the shard stage by force gives
byte-identical tars (so the cache stage stays up to date).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA_STAGES = ("fetch", "shard", "cache")
UP_TO_DATE = "Data and pipelines are up to date."


def _run(args: list[str], cwd: Path) -> str:
    env = {
        **os.environ,
        # the stages call the `ivif` console script installed next to this interpreter
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        "DO_NOT_TRACK": "1",
    }
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture
def repo_copy(tmp_path, project_root) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy2(project_root / name, repo / name)
    shutil.copytree(project_root / "data" / "sample", repo / "data" / "sample")
    shutil.copytree(project_root / "ivif", repo / "ivif", ignore=shutil.ignore_patterns("__pycache__"))
    dvc = str(Path(sys.executable).parent / "dvc")
    _run(["git", "init", "-q"], repo)
    _run([dvc, "init", "-q"], repo)
    _run([dvc, "config", "core.analytics", "false"], repo)
    return repo


def _tar_hashes(repo: Path) -> dict[str, str]:
    summary = json.loads((repo / "data" / "shards" / "sample" / "shards.json").read_text())
    return {e["path"]: e["sha256"] for s in summary["splits"].values() for m in s["tars"].values() for e in m}


@pytest.mark.slow
def test_dvc_repro_runs_once_and_is_deterministic(repo_copy):
    dvc = str(Path(sys.executable).parent / "dvc")
    first = _run([dvc, "repro", "cache"], repo_copy)
    for stage in DATA_STAGES:
        assert f"Running stage '{stage}@sample'" in first
    assert (repo_copy / "data" / "cache" / "sample" / "train" / "meta.json").is_file()
    hashes = _tar_hashes(repo_copy)
    assert len(hashes) == 4  # {train,test} x {ir,vi}

    again = _run([dvc, "repro", "cache"], repo_copy)
    assert "Running stage" not in again
    assert UP_TO_DATE in _run([dvc, "status", *DATA_STAGES], repo_copy)

    forced = _run([dvc, "repro", "--force", "--single-item", "shard@sample"], repo_copy)
    assert "Running stage 'shard@sample'" in forced
    assert _tar_hashes(repo_copy) == hashes
    assert UP_TO_DATE in _run([dvc, "status", *DATA_STAGES], repo_copy)  # identical tars: cache still valid
