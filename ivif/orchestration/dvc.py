"""Running DVC stages from a flow: ``dvc repro <stages>`` as an argument list, never a shell string."""

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


def repro_command(stages: Sequence[str]) -> list[str]:
    return [dvc_executable(), "repro", *stages]


def repro(stages: Sequence[str], cwd: str | Path, tail_lines: int = 20) -> str:
    """Run ``dvc repro STAGES`` in ``cwd`` (a no-op for an empty list); return its output."""
    if not stages:
        return ""
    command = repro_command(stages)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-tail_lines:])
        shown = " ".join(["dvc", *command[1:]])
        raise StageError(f"`{shown}` in {cwd} failed (exit {done.returncode}):\n{tail}")
    return output
