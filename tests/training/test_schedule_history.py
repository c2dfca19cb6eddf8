import math

import pytest
import torch

from ivif.training.history import LossHistory, LossWindow
from ivif.training.schedule import build_scheduler, lr_factor, retarget_schedule


def test_warmup_then_cosine_to_the_floor():
    factors = [lr_factor(s, total_steps=12, schedule="cosine", warmup_steps=2, min_ratio=0.1) for s in range(12)]
    assert factors[:2] == [0.5, 1.0]
    assert factors[2] == pytest.approx(1.0) and factors[-1] == pytest.approx(0.1)
    assert factors[7] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 5 / 9)))
    assert all(a >= b for a, b in zip(factors[2:], factors[3:]))


def test_constant_and_unknown():
    assert lr_factor(5, 10, "constant") == 1.0
    with pytest.raises(ValueError, match="cosine"):
        lr_factor(5, 10, "linear")


def _cosine_after(steps: int, total_steps: int):
    """(optimizer, scheduler) of a ``total_steps`` cosine schedule after ``steps`` steps."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = build_scheduler(optimizer, total_steps, "cosine")
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
    return optimizer, scheduler


def test_scheduler_state_round_trip():
    optimizer, scheduler = _cosine_after(4, 10)
    state = scheduler.state_dict()
    fresh_optimizer, fresh = _cosine_after(0, 10)
    fresh.load_state_dict(state)
    fresh_optimizer.load_state_dict(optimizer.state_dict())
    assert fresh.get_last_lr() == scheduler.get_last_lr() == [pytest.approx(lr_factor(4, 10, "cosine"))]


def test_retarget_moves_a_loaded_schedule_to_the_new_length():
    _, scheduler = _cosine_after(4, 10)
    before = scheduler.get_last_lr()
    assert retarget_schedule(scheduler, 10) is None and scheduler.get_last_lr() == before  # same length: untouched
    fresh_optimizer, fresh = _cosine_after(0, 20)
    fresh.load_state_dict(scheduler.state_dict())  # the state carries the old length
    assert retarget_schedule(fresh, 20) == 10
    assert fresh.get_last_lr() == [pytest.approx(lr_factor(4, 20, "cosine"))]
    assert fresh_optimizer.param_groups[0]["lr"] == pytest.approx(lr_factor(4, 20, "cosine"))
    fresh_optimizer.step()
    fresh.step()
    assert fresh.get_last_lr() == [pytest.approx(lr_factor(5, 20, "cosine"))]


def test_loss_window_means_and_state():
    window = LossWindow()
    window.add({"loss/total": torch.tensor(1.0)})
    window.add({"loss/total": torch.tensor(3.0)})
    restored = LossWindow()
    restored.load_state_dict(window.state_dict())
    assert window.pop_means() == restored.pop_means() == {"loss/total": 2.0}
    assert len(window) == 0 and window.pop_means() == {}


def test_history_csv_and_truncate(tmp_path):
    history = LossHistory()
    history.append(5, 0, 0.1, {"loss/total": 0.5})
    history.append(10, 1, 0.05, {"loss/total": 0.25, "loss/adversarial": 0.1})
    history.truncate(5)
    history.append(10, 1, 0.05, {"loss/total": 0.3})
    assert history.to_csv().splitlines() == ["step,epoch,lr,loss/total", "5,0,0.1,0.5", "10,1,0.05,0.3"]
    assert history.write_png(tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
