"""The NaN/Inf guard: stop a diverging run before it overwrites a good checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss or gradient; the run stopped."""


def check_finite(value: torch.Tensor, what: str, step: int, last_checkpoint: Path | None) -> None:
    """Raise :class:`NonFiniteLossError` unless ``value`` is finite.

    The message names the step, what went non-finite and the checkpoint that is still
    good (training never writes one after a non-finite value), and what to change.
    """
    if bool(torch.isfinite(value).all()):
        return
    kept = (
        f"the last good checkpoint is {last_checkpoint}; resume from it with --resume"
        if last_checkpoint is not None and last_checkpoint.is_file()
        else "no checkpoint was written before it"
    )
    raise NonFiniteLossError(
        f"{what} became {float(value.detach().float().sum())} at step {step}; training stopped and {kept}. "
        "Lower train.lr, keep train.grad_clip > 0, or check the input data for corrupt images."
    )
