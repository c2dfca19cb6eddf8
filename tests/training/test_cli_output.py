"""What ``ivif train`` tells its user: one progress line under DVC, hints it accepts."""

from __future__ import annotations

import pytest
import torch

from ivif.cli import main


def test_no_progress_run_logs_one_progress_line(tiny_project, capsys):
    """As dvc.yaml runs it (--no-progress, no terminal): no bar, one line for the run."""
    out = tiny_project.parent / "quiet"
    assert main(["train", "--params", str(tiny_project), "--out", str(out), "--no-track", "--no-progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    progress = [line for line in err if line.startswith("train cnn-aptp:")]
    assert len(progress) == 1 and progress[0].startswith("train cnn-aptp: done, 8/8 step (100%)"), err
    assert "loss=" in progress[0] and not any("\r" in line or "it/s" in line for line in err)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the message is about a machine without CUDA")
def test_ivif_train_suggests_only_what_it_accepts(tiny_project, capsys):
    """``ivif train`` has no --device option: a device error names the params key instead."""
    assert main(["train", "--params", str(tiny_project), "--no-track", "--no-progress", "train.device=cuda"]) == 1
    err = capsys.readouterr().err
    assert "use train.device=cpu or train.device=auto" in err and "--device" not in err
