"""Weights-only loading: files that torch refuses get our message (file + fix), never
torch's advice to load with weights_only=False; every loader of the project uses it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ivif.io.safe_load import UnsafeWeightsError, WeightsLoadError, load_weights
from ivif.models.checkpoint import load_checkpoint
from ivif.models.upstream import UpstreamCheckpointError, read_state_dict
from ivif.training.checkpoint import CheckpointError, load_state

TORCH_ADVICE = "weights_only"  # torch's text says to set `weights_only` to False


@pytest.fixture
def pickled_object(tmp_path):
    """A torch file whose pickle needs a non-tensor global (a NumPy scalar)."""
    path = tmp_path / "objects.pt"
    torch.save({"model": {"w": torch.ones(2)}, "score": np.float64(1.5)}, path)
    return path


@pytest.fixture
def truncated(tmp_path):
    path = tmp_path / "truncated.pt"
    torch.save({"w": torch.ones(64)}, tmp_path / "whole.pt")
    path.write_bytes((tmp_path / "whole.pt").read_bytes()[:80])
    return path


@pytest.fixture
def garbage(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"not a checkpoint")
    return path


def test_plain_weights_load(tmp_path):
    torch.save({"w": torch.arange(3.0)}, tmp_path / "ok.pt")
    assert torch.equal(load_weights(tmp_path / "ok.pt")["w"], torch.arange(3.0))


def test_pickled_objects_are_refused_with_our_message(pickled_object):
    with pytest.raises(UnsafeWeightsError) as caught:
        load_weights(pickled_object, fix="do X")
    message = str(caught.value)
    assert str(pickled_object) in message and "Fix: do X" in message and "multiarray.scalar" in message
    assert TORCH_ADVICE not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # torch's error is not chained


def test_truncated_file_names_the_file_and_the_fix(truncated):
    with pytest.raises(WeightsLoadError, match="truncated.pt: not a readable PyTorch file .*Fix: copy or download it again") as caught:
        load_weights(truncated)
    assert TORCH_ADVICE not in str(caught.value)


def test_garbage_is_unreadable_not_unsafe(tmp_path):
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsLoadError, match="garbage.pt: not a readable PyTorch file") as caught:
        load_weights(tmp_path / "garbage.pt")
    assert not isinstance(caught.value, UnsafeWeightsError) and TORCH_ADVICE not in str(caught.value)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        load_weights("nowhere.pt")


@pytest.mark.parametrize(
    ("loader", "error"),
    [(load_checkpoint, ValueError), (load_state, CheckpointError), (read_state_dict, UpstreamCheckpointError)],
    ids=["ivif-checkpoint", "training-state", "upstream"],
)
@pytest.mark.parametrize("bad", ["pickled_object", "truncated", "garbage"])
def test_no_loader_passes_torch_advice_on(loader, error, bad, request):
    path = request.getfixturevalue(bad)
    with pytest.raises(error) as caught:
        loader(path)
    chain, exc = [], caught.value
    while exc is not None:  # the whole chain a traceback would print
        chain.append(str(exc))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    assert str(path) in chain[0]
    assert not any(TORCH_ADVICE in text for text in chain), chain
