"""``ivif train`` has no --device option: a device error names the params key instead."""

from __future__ import annotations

import pytest
import torch

from ivif.cli import main


@pytest.mark.skipif(torch.cuda.is_available(), reason="the message is about a machine without CUDA")
def test_ivif_train_suggests_only_what_it_accepts(tiny_project, capsys):
    assert main(["train", "--params", str(tiny_project), "--no-track", "--no-progress", "train.device=cuda"]) == 1
    err = capsys.readouterr().err
    assert "use train.device=cpu or train.device=auto" in err and "--device" not in err
