import random

import numpy as np
import pytest
import torch

from ivif.training.checkpoint import CheckpointError, capture_rng, load_state, restore_rng, save_state


def _draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_rng_round_trip_reproduces_every_stream():
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    _draw()
    state = capture_rng()
    expected = [_draw() for _ in range(3)]
    _draw()
    restore_rng(state)
    assert [_draw() for _ in range(3)] == expected


def test_state_survives_save_and_weights_only_load(tmp_path):
    path = save_state(tmp_path / "ck" / "last.pt", {"step": 3, "rng": capture_rng(), "model": {"w": torch.ones(2)}})
    state = load_state(path)
    assert state["step"] == 3 and torch.equal(state["model"]["w"], torch.ones(2))
    restore_rng(state["rng"])  # loadable under weights_only and usable


def test_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="start without --resume"):
        load_state(tmp_path / "none.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="delete it to start over"):
        load_state(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"w": torch.zeros(1)}, foreign)
    with pytest.raises(CheckpointError, match="not an ivif training checkpoint"):
        load_state(foreign)


def test_failed_save_keeps_the_previous_file(tmp_path):
    path = save_state(tmp_path / "last.pt", {"step": 1})
    with pytest.raises(TypeError):
        save_state(path, {"step": 2, "bad": object.__new__(type("Unpicklable", (), {"__reduce__": None}))})
    assert load_state(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
