"""Learning-rate schedule: linear warm-up, then constant or cosine decay."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch


def lr_factor(step: int, total_steps: int, schedule: str, warmup_steps: int = 0, min_ratio: float = 0.0) -> float:
    """Multiplier of the peak learning rate for optimizer step ``step`` (0-based).

    Warm-up rises linearly to 1 over ``warmup_steps``; then ``constant`` stays at 1 and
    ``cosine`` decays to ``min_ratio`` at step ``total_steps - 1``.
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule != "cosine":
        raise ValueError(f"unknown schedule {schedule!r}; use 'constant' or 'cosine'")
    decay_steps = max(total_steps - warmup_steps - 1, 1)
    progress = min((step - warmup_steps) / decay_steps, 1.0)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class _Factor:
    """Picklable LambdaLR callable (a closure would not survive ``state_dict``)."""

    total_steps: int
    schedule: str
    warmup_steps: int
    min_ratio: float

    def __call__(self, step: int) -> float:
        return lr_factor(step, self.total_steps, self.schedule, self.warmup_steps, self.min_ratio)


def build_scheduler(
    optimizer: torch.optim.Optimizer, total_steps: int, schedule: str, warmup_steps: int = 0, min_ratio: float = 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` following :func:`lr_factor`; step it once per optimizer step."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, _Factor(total_steps, schedule, warmup_steps, min_ratio))


def retarget_schedule(scheduler: torch.optim.lr_scheduler.LambdaLR, total_steps: int) -> int | None:
    """Make a resumed :func:`build_scheduler` schedule end at ``total_steps``.

    A scheduler's state carries the run length it was built for, so a run resumed with
    more epochs would otherwise decay to its floor at the old end and train on at that
    rate. From the resumed step on, the schedule becomes the one a run of
    ``total_steps`` would have (the learning rate moves to that curve at once).
    Returns the previous length when it changed, else None (nothing is touched).
    """
    previous = scheduler.lr_lambdas[0].total_steps
    if previous == total_steps:
        return None
    factors = [dataclasses.replace(factor, total_steps=total_steps) for factor in scheduler.lr_lambdas]
    scheduler.lr_lambdas = factors
    step = scheduler.last_epoch  # optimizer steps taken; the next one uses factor(step)
    for group, base_lr, factor in zip(scheduler.optimizer.param_groups, scheduler.base_lrs, factors):
        group["lr"] = base_lr * factor(step)
    scheduler._last_lr = [group["lr"] for group in scheduler.optimizer.param_groups]
    return previous
