import pytest
import torch

from ivif.training.guard import FiniteGuard, NonFiniteLossError, check_finite


def test_immediate_guard_names_the_step_and_the_kept_checkpoint(tmp_path):
    kept = tmp_path / "last.pt"
    kept.write_bytes(b"x")
    guard = FiniteGuard(deferred=False)
    guard.observe(torch.tensor(1.0), "the training loss", 6, kept)
    with pytest.raises(NonFiniteLossError, match=rf"the training loss became nan at step 7; .*{kept}.*--resume"):
        guard.observe(torch.tensor(float("nan")), "the training loss", 7, kept)


def test_deferred_guard_reports_the_step_range_at_verification(tmp_path):
    guard = FiniteGuard(deferred=True)
    guard.observe(torch.tensor(1.0), "the training loss", 3, None)
    guard.observe(torch.tensor(float("inf")), "the gradient norm", 4, None)  # no error yet: no host sync
    with pytest.raises(
        NonFiniteLossError, match="the training loss or the gradient norm became NaN or infinite between steps 3 and 5; .*no checkpoint"
    ):
        guard.verify(5, tmp_path / "missing.pt")
    guard.verify(6, None)  # the failed window was consumed; nothing new observed


def test_deferred_guard_passes_finite_windows():
    guard = FiniteGuard(deferred=True)
    for step in range(1, 4):
        guard.observe(torch.tensor(0.5), "the training loss", step, None)
    guard.verify(3, None)


def test_check_finite_accepts_finite_tensors():
    check_finite(torch.ones(3), "x", 1, None)
    with pytest.raises(NonFiniteLossError, match="x became inf at step 2"):
        check_finite(torch.tensor([1.0, float("inf")]), "x", 2, None)


def test_guard_names_previous_pt_when_last_pt_was_set_aside(tmp_path):
    # after a resume from previous.pt (a corrupt last.pt set aside), the good file is previous.pt
    previous = tmp_path / "previous.pt"
    previous.write_bytes(b"x")
    with pytest.raises(NonFiniteLossError, match=rf"the last good checkpoint is {previous}"):
        check_finite(torch.tensor(float("nan")), "the training loss", 9, tmp_path / "last.pt")
