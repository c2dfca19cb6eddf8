"""ivif's checkpoint format, shared by training, upstream import and fusion.

A checkpoint is a ``torch.save``-d dict, loadable with ``weights_only=True``::

    {
        "format": "ivif-checkpoint/1",
        "model_name": "cnn",            # a name in ivif.models.list_models()
        "model_kwargs": {...},          # keyword arguments of create_model (plain types)
        "model": state_dict,            # tensors on CPU
        ...                             # free extra keys (epoch, metrics, source, ...)
    }

Extra keys must hold only plain Python values and tensors (``weights_only`` refuses
anything else). Writes are atomic: a crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ivif.io.atomic import atomic_write_stream
from ivif.io.safe_load import load_weights

FORMAT = "ivif-checkpoint/1"
REQUIRED_KEYS = ("format", "model_name", "model_kwargs", "model")


def save_checkpoint(
    path: str | Path,
    *,
    model_name: str,
    model_kwargs: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    **extra: Any,
) -> Path:
    """Write a checkpoint of ``state_dict`` (moved to CPU) atomically; returns ``path``."""
    clashes = set(extra) & set(REQUIRED_KEYS)
    if clashes:
        raise ValueError(f"extra checkpoint keys clash with the format's own: {sorted(clashes)}")
    payload = {
        "format": FORMAT,
        "model_name": model_name,
        "model_kwargs": dict(model_kwargs),
        "model": {key: value.detach().cpu() for key, value in state_dict.items()},
        **extra,
    }
    path = Path(path)
    # Through a stream: given a path, torch.save would name its zip records after the
    # temporary file, so identical checkpoints would differ byte-wise (and DVC would see a
    # changed output on every run).
    atomic_write_stream(path, lambda stream: torch.save(payload, stream))
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and validate an ivif checkpoint (``weights_only=True``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file and
    the fix for anything that is not an ivif checkpoint (e.g. an upstream state_dict).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = load_weights(path, map_location)
    except Exception as exc:  # unpickling errors come in many types
        raise ValueError(f"{path} is not a loadable PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        hint = ""
        if isinstance(payload, dict) and payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
            hint = " It looks like a bare state_dict: use --model upstream:<cnn|transformer|gan>:PATH or `ivif import-upstream`."
        raise ValueError(f"{path} is not an ivif checkpoint (no format {FORMAT!r}).{hint}")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise ValueError(f"{path} is an incomplete ivif checkpoint: missing {missing}")
    return payload


def model_from_checkpoint(payload: Mapping[str, Any], source: str | Path = "<checkpoint>") -> nn.Module:
    """Build the checkpoint's model with its kwargs and load its weights (strict), in eval mode."""
    from ivif.models.registry import create_model

    model = create_model(payload["model_name"], **payload["model_kwargs"])
    try:
        model.load_state_dict(payload["model"], strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{source}: weights do not fit model {payload['model_name']!r}: {exc}") from exc
    return model.eval()


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Model of the ivif checkpoint at ``path``, weights loaded, in eval mode."""
    return model_from_checkpoint(load_checkpoint(path, map_location), source=path)
