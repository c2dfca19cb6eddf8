"""Full training-state checkpoints, written atomically, loaded with ``weights_only=True``.

A checkpoint holds everything that decides the rest of the run: model, optimizer and
scheduler states (and the discriminator's for the GAN), the step and epoch counters,
the position in the epoch's manifest and every RNG state (Python, NumPy, torch CPU and
CUDA). Resuming from it continues the run exactly: on CPU the final weights are
bitwise equal to an uninterrupted run's.

File layout (``torch.save`` of a dict of tensors, numbers and strings only, so it loads
under ``weights_only=True``)::

    {"format": "ivif-train-state/2", "step", "epoch", "epoch_position",
     "model", "optimizer", "scheduler", "adversary" (GAN only, else None),
     "rng": {"python", "numpy", "torch", "cuda"}, "config": {...flattened train params},
     "content_sha256": hash of all of the above (ivif.models.checkpoint.payload_sha256)}

The two latest checkpoints are kept: saving moves the current ``last.pt`` to
``previous.pt`` before the new one takes its name. Loading checks the content hash; a
corrupt or unreadable ``last.pt`` is reported by name and the run resumes from
``previous.pt`` instead (exactly, from that step), so "the last good checkpoint" is
always a file that was checked.
"""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ivif.io.atomic import atomic_path, sweep_stale_temps
from ivif.io.safe_load import load_weights
from ivif.models.checkpoint import (
    HASH_KEY,
    CorruptCheckpointError,
    payload_sha256,
    verify_payload,
)

log = logging.getLogger(__name__)

STATE_FORMAT = "ivif-train-state/2"
LEGACY_STATE_FORMATS = ("ivif-train-state/1",)  # no content hash: resumable, unchecked
PREVIOUS_CHECKPOINT = "previous.pt"
CORRUPT_SUFFIX = ".corrupt"


class CheckpointError(ValueError):
    """A training-state file is missing, corrupt or of another format."""


def capture_rng() -> dict[str, Any]:
    """Every RNG state that training consumes, in a ``weights_only``-loadable form."""
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    version, py_state, py_gauss = random.getstate()
    return {
        "python": {"version": version, "state": torch.tensor(py_state, dtype=torch.int64), "gauss": py_gauss},
        "numpy": {
            "kind": np_kind,
            "keys": torch.from_numpy(np_keys.astype(np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "gauss": float(np_gauss),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng`."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npy = state["numpy"]
    np.random.set_state((npy["kind"], npy["keys"].cpu().numpy().astype(np.uint32), npy["pos"], npy["has_gauss"], npy["gauss"]))
    # A checkpoint loaded with map_location="cuda" carries the states on the GPU; the
    # setters want CPU byte tensors.
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([cuda_state.cpu() for cuda_state in state["cuda"]])


def previous_state(path: str | Path) -> Path:
    """Where :func:`save_state` keeps the checkpoint before ``path`` (``previous.pt`` beside it)."""
    return Path(path).with_name(PREVIOUS_CHECKPOINT)


def has_state(path: str | Path) -> bool:
    """True when there is something to resume from: ``path`` or the checkpoint before it.

    (A kill between the two renames of :func:`save_state` leaves only ``previous.pt``.)
    """
    return Path(path).is_file() or previous_state(path).is_file()


def save_state(path: str | Path, state: dict[str, Any], keep_previous: bool = True) -> Path:
    """Write ``state`` (see module docstring) to ``path`` atomically; return the path.

    The previous file stays intact until the new one is completely on disk, so a kill
    at any moment leaves a loadable checkpoint. With ``keep_previous`` the file that was
    at ``path`` becomes ``previous.pt``. Temporaries of an earlier killed write are swept.
    """
    path = Path(path)
    sweep_stale_temps(path.parent)
    payload = {"format": STATE_FORMAT, **state}
    payload[HASH_KEY] = payload_sha256(payload)
    # Through a stream: given a path, torch.save names its zip records after the file,
    # and the temporary's random name would make identical states differ byte-wise.
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as stream:
            torch.save(payload, stream)
        if keep_previous and path.is_file():
            os.replace(path, previous_state(path))
    return path


def load_state(path: str | Path, map_location: str | torch.device = "cpu", fallback: bool = True) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_state` (``weights_only=True``), hash checked.

    With ``fallback``, a missing, unreadable or corrupt ``path`` is reported (a warning
    naming it and why) and ``previous.pt`` is loaded instead when that one is good; the
    returned state then says where it came from under ``"loaded_from"``. Otherwise
    :class:`CheckpointError` names the file and what to do.
    """
    path = Path(path)
    try:
        return _load_checked(path, map_location)
    except CheckpointError as exc:
        previous = previous_state(path)
        if not fallback or not previous.is_file() or previous == path:
            raise
        try:
            state = _load_checked(previous, map_location)
        except CheckpointError as previous_exc:
            raise CheckpointError(f"{exc}\nthe checkpoint before it is unusable too: {previous_exc}") from exc
        if not path.exists():
            log.warning("%s is missing (a save was interrupted); resuming from %s (step %s)", path, previous, state.get("step"))
            return state
        kept = _set_aside(path)
        log.warning(
            "%s\nresuming from the checkpoint before it instead: %s (step %s)%s",
            exc,
            previous,
            state.get("step"),
            f"; the bad file is kept as {kept}" if kept else "",
        )
        return state


def _set_aside(path: Path) -> Path | None:
    """Rename a bad checkpoint out of the rotation (so the next save cannot move it onto
    the good ``previous.pt``); keep it for inspection."""
    aside = path.with_name(path.name + CORRUPT_SUFFIX)
    try:
        os.replace(path, aside)
    except FileNotFoundError:  # another rank of the same job set it aside first
        return None
    return aside


def _load_checked(path: Path, map_location) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"{path}: no training checkpoint to resume from; start without --resume")
    try:
        state = load_weights(path, map_location, fix="delete it to start the run over")
    except Exception as exc:  # a truncated or foreign file: say which, and what to do
        raise CheckpointError(f"{path}: cannot read the training checkpoint ({exc}); {_fix(path)}") from exc
    if not isinstance(state, dict) or state.get("format") not in (STATE_FORMAT, *LEGACY_STATE_FORMATS):
        raise CheckpointError(f"{path}: not an ivif training checkpoint (format {STATE_FORMAT!r} expected); {_fix(path)}")
    if state["format"] == STATE_FORMAT:
        try:
            verify_payload(state, path, _fix(path))
        except CorruptCheckpointError as exc:
            raise CheckpointError(str(exc)) from exc
    state = dict(state)
    state.pop(HASH_KEY, None)
    state["loaded_from"] = str(path)
    return state


def _fix(path: Path) -> str:
    previous = previous_state(path)
    if previous != path and previous.is_file():
        return f"resume from the checkpoint before it ({previous}), or delete both to start over"
    return "delete it to start over"
