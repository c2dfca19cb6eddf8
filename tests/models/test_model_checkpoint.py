"""The ivif checkpoint format: round trip, validation, atomic writes."""

from __future__ import annotations

import pytest
import torch

from ivif.models import create_model
from ivif.models.checkpoint import FORMAT, load_checkpoint, load_model, save_checkpoint

SMALL = {"stem_width": 4, "growth": (2, 2, 4, 4), "head_width": 4}


def test_round_trip_rebuilds_the_model_with_its_kwargs(tmp_path):
    torch.manual_seed(0)
    model = create_model("cnn", **SMALL)
    path = save_checkpoint(tmp_path / "ck.pt", model_name="cnn", model_kwargs=SMALL, state_dict=model.state_dict(), epoch=3)
    payload = load_checkpoint(path)
    assert payload["format"] == FORMAT and payload["epoch"] == 3
    loaded = load_model(path)
    x = torch.rand(1, 2, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded(x), model.eval()(x))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary files left


def test_bare_state_dict_is_refused_with_the_fix(tmp_path, upstream_weights):
    with pytest.raises(ValueError, match="not an ivif checkpoint.*upstream:<cnn|transformer|gan>:PATH"):
        load_checkpoint(upstream_weights["cnn"])


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_checkpoint(tmp_path / "nope.pt")


def test_weights_that_do_not_fit_name_the_file(tmp_path):
    model = create_model("cnn", **SMALL)
    path = save_checkpoint(tmp_path / "ck.pt", model_name="cnn", model_kwargs={}, state_dict=model.state_dict())
    with pytest.raises(ValueError, match="ck.pt: weights do not fit model 'cnn'"):
        load_model(path)


def test_extra_keys_may_not_shadow_the_format():
    with pytest.raises(ValueError, match="clash"):
        save_checkpoint("unused.pt", model_name="cnn", model_kwargs={}, state_dict={}, format="x")


def test_the_same_checkpoint_is_the_same_bytes(tmp_path):
    # DVC hashes outputs: a checkpoint must not carry its temporary file's random name.
    torch.manual_seed(0)
    state = create_model("cnn").state_dict()
    first = save_checkpoint(tmp_path / "a" / "model.pt", model_name="cnn", model_kwargs={}, state_dict=state)
    second = save_checkpoint(tmp_path / "b" / "model.pt", model_name="cnn", model_kwargs={}, state_dict=state)
    assert first.read_bytes() == second.read_bytes()


def test_checkpoints_of_the_previous_format_still_load_unchecked(tmp_path, caplog):
    model = create_model("cnn", **SMALL)
    legacy = {"format": "ivif-checkpoint/1", "model_name": "cnn", "model_kwargs": SMALL, "model": model.state_dict()}
    torch.save(legacy, tmp_path / "old.pt")
    with caplog.at_level("WARNING", logger="ivif.models.checkpoint"):
        assert load_checkpoint(tmp_path / "old.pt")["format"] == "ivif-checkpoint/1"
    assert f"{tmp_path / 'old.pt'}: a ivif-checkpoint/1 checkpoint has no content hash" in caplog.text
    load_model(tmp_path / "old.pt")


def test_a_checkpoint_without_its_hash_is_refused(tmp_path):
    model = create_model("cnn", **SMALL)
    path = save_checkpoint(tmp_path / "ck.pt", model_name="cnn", model_kwargs=SMALL, state_dict=model.state_dict())
    payload = torch.load(path, weights_only=True)
    del payload["content_sha256"]  # e.g. a flipped byte in the key's name
    torch.save(payload, path)
    with pytest.raises(ValueError, match=rf"{path}: corrupt checkpoint: its content hash .* is missing"):
        load_checkpoint(path)
