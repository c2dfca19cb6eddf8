import logging
import os
import random

import numpy as np
import pytest
import torch

from ivif.training.checkpoint import (
    CheckpointError,
    capture_rng,
    has_state,
    load_state,
    previous_state,
    restore_rng,
    save_state,
)


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


def _flip_byte_in(path, needle: bytes) -> None:
    """Change one byte of ``path`` inside the first occurrence of ``needle`` (a tensor's bytes)."""
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at >= 0, "tensor bytes not found in the file"
    data[at + len(needle) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _weights(step: int) -> torch.Tensor:
    return torch.arange(64, dtype=torch.float32) + 1000 * step


def test_saving_keeps_the_two_latest_checkpoints(tmp_path):
    last = tmp_path / "checkpoints" / "last.pt"
    for step in (1, 2, 3):
        save_state(last, {"step": step, "model": {"w": _weights(step)}})
    assert load_state(last)["step"] == 3
    assert load_state(previous_state(last))["step"] == 2
    assert sorted(p.name for p in last.parent.iterdir()) == ["last.pt", "previous.pt"]


def test_one_changed_byte_in_last_pt_is_reported_by_name_and_previous_is_used(tmp_path, caplog):
    last = tmp_path / "checkpoints" / "last.pt"
    save_state(last, {"step": 4, "model": {"w": _weights(4)}})
    save_state(last, {"step": 8, "model": {"w": _weights(8)}})
    _flip_byte_in(last, _weights(8).numpy().tobytes())

    with pytest.raises(
        CheckpointError, match=rf"{last}: corrupt checkpoint.*resume from the checkpoint before it \({previous_state(last)}\)"
    ):
        load_state(last, fallback=False)
    with caplog.at_level(logging.WARNING, logger="ivif.training.checkpoint"):
        state = load_state(last)
    assert state["step"] == 4 and torch.equal(state["model"]["w"], _weights(4))
    assert str(last) in caplog.text and "corrupt checkpoint" in caplog.text and str(previous_state(last)) in caplog.text
    # the bad file leaves the rotation: the next save cannot push it onto the good previous.pt
    assert not last.exists() and (last.parent / "last.pt.corrupt").is_file()
    save_state(last, {"step": 5, "model": {"w": _weights(5)}})
    assert load_state(previous_state(last), fallback=False)["step"] == 4


def test_corrupt_last_pt_without_a_previous_one_names_the_file(tmp_path):
    last = tmp_path / "last.pt"
    save_state(last, {"step": 4, "model": {"w": _weights(4)}})
    _flip_byte_in(last, _weights(4).numpy().tobytes())
    with pytest.raises(CheckpointError, match=rf"{last}: corrupt checkpoint.*delete it to start over"):
        load_state(last)


def test_a_kill_between_the_renames_still_resumes(tmp_path):
    last = tmp_path / "last.pt"
    save_state(last, {"step": 4, "model": {"w": _weights(4)}})
    save_state(last, {"step": 8, "model": {"w": _weights(8)}})
    last.unlink()  # what a kill after "last -> previous" and before "tmp -> last" leaves
    assert has_state(last) and load_state(last)["step"] == 4


# --- end to end on a tiny real training (tests/training/conftest.py) ---------------------


def _train(params_path, *overrides, **kwargs):
    from ivif.params import load_params
    from ivif.training.run import apply_overrides, train_from_params

    params = apply_overrides(load_params(params_path), overrides)
    return train_from_params(params, root=params_path.parent, track=False, progress=False, **kwargs).result


def _largest_tensor_bytes(state_dict) -> bytes:
    name = max(state_dict, key=lambda key: state_dict[key].numel())
    return state_dict[name].detach().cpu().contiguous().numpy().tobytes()


def test_resume_with_a_corrupt_last_pt_continues_exactly_from_previous_pt(tiny_project, tmp_path, caplog):
    overrides = ("train.max_steps=null", "train.epochs=2", "train.ckpt_every=4")  # 16 steps
    straight = _train(tiny_project, *overrides, out_dir=tmp_path / "straight")
    stopped = _train(tiny_project, *overrides, out_dir=tmp_path / "run", stop_after_steps=10)
    last = stopped.paths.last_state
    assert load_state(last)["step"] == 10 and load_state(previous_state(last))["step"] == 8
    _flip_byte_in(last, _largest_tensor_bytes(stopped.model.state_dict()))

    with caplog.at_level(logging.WARNING, logger="ivif.training.checkpoint"):
        resumed = _train(tiny_project, *overrides, out_dir=tmp_path / "run", resume=True)

    assert f"{last}: corrupt checkpoint" in caplog.text and f"{previous_state(last)} (step 8)" in caplog.text
    assert resumed.step == 16
    straight_weights, resumed_weights = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(straight_weights[key], resumed_weights[key]) for key in straight_weights)


def test_one_changed_byte_in_a_weight_of_model_pt_is_reported_by_name(tiny_project, tmp_path, project_root, capsys):
    from ivif.models.checkpoint import CorruptCheckpointError, load_model

    result = _train(tiny_project, out_dir=tmp_path / "run")
    model_file = result.paths.model_file
    load_model(model_file)  # intact: loads
    _flip_byte_in(model_file, _largest_tensor_bytes(result.model.state_dict()))
    with pytest.raises(CorruptCheckpointError, match=rf"{model_file}: corrupt checkpoint.*dvc repro train"):
        load_model(model_file)
    # today's failure: `ivif fuse` wrote an all-black PNG and exited 0
    from ivif.cli import main

    sample = project_root / "data" / "sample"
    ir = min((sample / "ir").iterdir())
    vi = sample / "vi" / ir.name
    out = tmp_path / "fused.png"
    assert main(["fuse", "--model", str(model_file), "--ir", str(ir), "--vi", str(vi), "--out", str(out), "--device", "cpu"]) == 1
    assert f"{model_file}: corrupt checkpoint" in capsys.readouterr().err and not out.exists()


def test_a_full_disk_during_training_names_the_checkpoint_it_was_writing(tiny_project, tmp_path):
    """A real, tiny file system (tmpfs) fills up at the first checkpoint."""
    import subprocess

    from ivif.io.atomic import DiskFullError

    small = tmp_path / "small"
    small.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        with pytest.raises(DiskFullError, match=rf"no space left writing {small / 'run' / 'checkpoints' / 'last.pt'}") as caught:
            _train(tiny_project, out_dir=small / "run")
        assert "inline_container" not in str(caught.value)
        assert not [p for p in (small / "run" / "checkpoints").iterdir()]  # no half-written file or temporary
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_a_training_checkpoint_of_the_previous_format_still_resumes(tmp_path):
    legacy = tmp_path / "last.pt"
    torch.save({"format": "ivif-train-state/1", "step": 3, "model": {"w": _weights(3)}}, legacy)
    assert load_state(legacy, fallback=False)["step"] == 3
