"""The NaN/Inf guard: stop a diverging run before it overwrites a good checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch

from ivif.training.checkpoint import previous_state

ADVICE = "Lower train.lr, keep train.grad_clip > 0, or check the input data for corrupt images."


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss or gradient; the run stopped."""


def _kept(last_checkpoint: Path | None) -> str:
    # Every checkpoint carries a content hash checked on --resume (a corrupt last.pt falls
    # back to previous.pt), so the file named here is one that resuming verifies.
    if last_checkpoint is not None:
        for kept in (last_checkpoint, previous_state(last_checkpoint)):
            if kept.is_file():
                return f"the last good checkpoint is {kept}; resume from it with --resume"
    return "no checkpoint was written before it"


def check_finite(value: torch.Tensor, what: str, step: int, last_checkpoint: Path | None) -> None:
    """Raise :class:`NonFiniteLossError` unless ``value`` is finite.

    The message names the step, what went non-finite and the checkpoint that is still
    good (training never writes one after a non-finite value), and what to change.
    """
    if bool(torch.isfinite(value).all()):
        return
    raise NonFiniteLossError(
        f"{what} became {float(value.detach().float().sum())} at step {step}; training stopped and {_kept(last_checkpoint)}. {ADVICE}"
    )


class FiniteGuard:
    """Watches every loss and gradient norm of the run.

    Immediate (CPU): each value is checked as it comes, so the error names the exact
    step. Deferred (CUDA): a check is a host sync that stalls the GPU's queue, so values
    are folded into one on-device flag and :meth:`verify` checks it at log points and
    before every checkpoint; the error then names the range of steps. Either way, no
    checkpoint is written after a non-finite value.
    """

    def __init__(self, deferred: bool):
        self.deferred = deferred
        self._all_finite: torch.Tensor | None = None
        self._watched: list[str] = []
        self._since: int | None = None

    def observe(self, value: torch.Tensor, what: str, step: int, last_checkpoint: Path | None) -> None:
        if not self.deferred:
            check_finite(value, what, step, last_checkpoint)
            return
        finite = torch.isfinite(value.detach()).all()
        self._all_finite = finite if self._all_finite is None else self._all_finite & finite
        if what not in self._watched:
            self._watched.append(what)
        if self._since is None:
            self._since = step

    def verify(self, step: int, last_checkpoint: Path | None) -> None:
        """Raise if anything observed since the last verification was non-finite."""
        if self._all_finite is None:
            return
        ok, since, watched = bool(self._all_finite), self._since, " or ".join(self._watched)
        self._all_finite, self._watched, self._since = None, [], None
        if not ok:
            raise NonFiniteLossError(
                f"{watched} became NaN or infinite between steps {since} and {step}; "
                f"training stopped and {_kept(last_checkpoint)}. {ADVICE}"
            )
