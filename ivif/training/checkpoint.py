"""Full training-state checkpoints, written atomically, loaded with ``weights_only=True``.

A checkpoint holds everything that decides the rest of the run: model, optimizer and
scheduler states (and the discriminator's for the GAN), the step and epoch counters,
the position in the epoch's manifest and every RNG state (Python, NumPy, torch CPU and
CUDA). Resuming from it continues the run exactly: on CPU the final weights are
bitwise equal to an uninterrupted run's.

File layout (``torch.save`` of a dict of tensors, numbers and strings only, so it loads
under ``weights_only=True``)::

    {"format": "ivif-train-state/1", "step", "epoch", "epoch_position",
     "model", "optimizer", "scheduler", "adversary" (GAN only, else None),
     "rng": {"python", "numpy", "torch", "cuda"}, "config": {...flattened train params}}
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ivif.io.atomic import atomic_write_stream
from ivif.io.safe_load import load_weights

STATE_FORMAT = "ivif-train-state/1"
LAST_CHECKPOINT = "last.pt"


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


def save_state(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (see module docstring) to ``path`` atomically; return the path.

    The previous file stays intact until the new one is completely on disk, so a kill
    at any moment leaves a loadable checkpoint.
    """
    path = Path(path)
    atomic_write_stream(path, lambda stream: torch.save({"format": STATE_FORMAT, **state}, stream))  # byte-reproducible
    return path


def load_state(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_state` (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no training checkpoint to resume from; start without --resume")
    try:
        state = load_weights(path, map_location, fix="delete it to start the run over")
    except Exception as exc:  # a truncated or foreign file: say which, and what to do
        raise CheckpointError(f"{path}: cannot read the training checkpoint ({exc}); delete it to start over") from exc
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{path}: not an ivif training checkpoint (format {STATE_FORMAT!r} expected)")
    return state
