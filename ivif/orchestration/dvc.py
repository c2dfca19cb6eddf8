"""Running DVC stages from a flow: ``dvc repro <stages>`` as an argument list, never a shell
string, and only stages of the project's own top-level ``dvc.yaml`` (:func:`check_targets`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


class StageError(RuntimeError):
    """``dvc repro`` failed; the message carries the command and DVC's last output lines."""


def dvc_executable() -> str:
    """The ``dvc`` next to this interpreter (the project's venv), else the one on PATH."""
    local = Path(sys.executable).with_name("dvc")
    found = str(local) if local.is_file() else shutil.which("dvc")
    if not found:
        raise StageError("dvc is not installed in this environment; run `bash scripts/setup.sh`")
    return found


PIPELINE_FILE = "dvc.yaml"


def project_stages(root: str | Path) -> frozenset[str]:
    """Stage names of ``<root>/dvc.yaml`` (foreach stages both as ``fetch`` and ``fetch@sample``)."""
    from dvc.dvcfile import load_file
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    root = Path(root)
    if not (root / PIPELINE_FILE).is_file():
        raise StageError(f"{root / PIPELINE_FILE}: no pipeline in the bound project; set retrain.data_stages/manifest_stages to []")
    try:
        with Repo(str(root)) as repo:
            names = set(load_file(repo, str(root.resolve() / PIPELINE_FILE)).stages.keys())
    except NotDvcRepoError as exc:
        raise StageError(f"{root} is not a DVC project (run `dvc init` there): {exc}") from exc
    return frozenset(names | {name.partition("@")[0] for name in names})


def check_targets(stages: Sequence[str], root: str | Path) -> list[str]:
    """``stages`` if each names a stage of ``<root>/dvc.yaml``; StageError naming the first that does not.

    Refuses paths (``sub/dvc.yaml:stage``), options (``--force``) and any stage defined elsewhere.
    """
    stages = list(stages)
    if not stages:
        return stages
    known = project_stages(root)
    for stage in stages:
        if stage not in known:
            raise StageError(f"DVC target {stage!r} is not a stage of {Path(root) / PIPELINE_FILE}; allowed: {', '.join(sorted(known))}")
    return stages


def repro_command(stages: Sequence[str]) -> list[str]:
    return [dvc_executable(), "repro", *stages]


def repro(stages: Sequence[str], cwd: str | Path, tail_lines: int = 20) -> str:
    """Run ``dvc repro STAGES`` in ``cwd`` (a no-op for an empty list); return its output.

    Each stage must be one of ``<cwd>/dvc.yaml`` (:func:`check_targets`)."""
    if not stages:
        return ""
    command = repro_command(check_targets(stages, cwd))
    done = subprocess.run(command, check=False, cwd=cwd, capture_output=True, text=True)
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-tail_lines:])
        shown = " ".join(["dvc", *command[1:]])
        raise StageError(f"`{shown}` in {cwd} failed (exit {done.returncode}):\n{tail}")
    return output
