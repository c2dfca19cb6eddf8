"""ivif's checkpoint format, shared by training, upstream import and fusion.

A checkpoint is a ``torch.save``-d dict, loadable with ``weights_only=True``::

    {
        "format": "ivif-checkpoint/2",
        "model_name": "cnn",            # a name in ivif.models.list_models()
        "model_kwargs": {...},          # keyword arguments of create_model (plain types)
        "model": state_dict,            # tensors on CPU
        "content_sha256": "...",        # payload_sha256 of every other entry, weights included
        ...                             # free extra keys (epoch, metrics, source, ...)
    }

Extra keys must hold only plain Python values and tensors (``weights_only`` refuses
anything else). Writes are atomic: a crash never leaves a half-written checkpoint.
The content hash is written with the checkpoint and checked on every load, so one
changed byte in a weight is reported (:class:`CorruptCheckpointError`) instead of
fusing with it. Files of the previous format (``ivif-checkpoint/1``, no hash) still load.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ivif.io.atomic import atomic_write_stream, sweep_stale_temps
from ivif.io.safe_load import load_weights

log = logging.getLogger(__name__)

FORMAT = "ivif-checkpoint/2"
LEGACY_FORMATS = ("ivif-checkpoint/1",)  # no content hash: loaded unchecked
HASH_KEY = "content_sha256"
REQUIRED_KEYS = ("format", "model_name", "model_kwargs", "model")
CHECKPOINT_FIX = "rebuild it (`dvc repro train`, or train again into that folder) or restore it from the model registry"


class CorruptCheckpointError(ValueError):
    """A checkpoint's bytes no longer match the content hash stored in it when written."""


def payload_sha256(payload: Mapping[str, Any], skip: str = HASH_KEY) -> str:
    """SHA-256 of a checkpoint payload's content, independent of the file's byte layout.

    Walks nested dicts (keys sorted), lists and tuples; tensors contribute dtype, shape
    and raw bytes (moved to CPU), other values their ``repr``. The top-level ``skip`` key
    (the hash itself) is left out.
    """
    digest = hashlib.sha256()
    _feed(digest, {key: value for key, value in payload.items() if key != skip})
    return digest.hexdigest()


def _feed(digest, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    elif isinstance(value, Mapping):
        digest.update(b"{")
        for key in sorted(value, key=repr):
            digest.update(repr(key).encode() + b":")
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            _feed(digest, item)
            digest.update(b",")
        digest.update(b"]")
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def verify_payload(payload: Mapping[str, Any], path: str | Path, fix: str) -> None:
    """Raise :class:`CorruptCheckpointError` naming ``path`` and ``fix`` unless the stored
    content hash matches the payload (missing hash included)."""
    stored = payload.get(HASH_KEY)
    if not isinstance(stored, str):
        raise CorruptCheckpointError(f"{path}: corrupt checkpoint: its content hash ({HASH_KEY}) is missing; {fix}")
    actual = payload_sha256(payload)
    if actual != stored:
        raise CorruptCheckpointError(
            f"{path}: corrupt checkpoint: its content does not match the hash recorded when it was written "
            f"(recorded {stored[:16]}, now {actual[:16]}); {fix}"
        )


def save_checkpoint(
    path: str | Path,
    *,
    model_name: str,
    model_kwargs: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    **extra: Any,
) -> Path:
    """Write a checkpoint of ``state_dict`` (moved to CPU) atomically; returns ``path``."""
    clashes = set(extra) & {*REQUIRED_KEYS, HASH_KEY}
    if clashes:
        raise ValueError(f"extra checkpoint keys clash with the format's own: {sorted(clashes)}")
    payload = {
        "format": FORMAT,
        "model_name": model_name,
        "model_kwargs": dict(model_kwargs),
        "model": {key: value.detach().cpu() for key, value in state_dict.items()},
        **extra,
    }
    payload[HASH_KEY] = payload_sha256(payload)
    path = Path(path)
    sweep_stale_temps(path.parent)  # what a killed earlier write left
    # Through a stream: given a path, torch.save would name its zip records after the
    # temporary file, so identical checkpoints would differ byte-wise (and DVC would see a
    # changed output on every run).
    atomic_write_stream(path, lambda stream: torch.save(payload, stream))
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and validate an ivif checkpoint (``weights_only=True``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file and
    the fix for anything that is not an ivif checkpoint (e.g. an upstream state_dict), and
    :class:`CorruptCheckpointError` (a ``ValueError``) when its content hash does not match.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = load_weights(path, map_location)
    except Exception as exc:  # unpickling errors come in many types
        raise ValueError(
            f"{path} is not a loadable PyTorch checkpoint ({type(exc).__name__}: {exc}); "
            f"if ivif wrote it, it is corrupt: {CHECKPOINT_FIX}"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") not in (FORMAT, *LEGACY_FORMATS):
        hint = ""
        if isinstance(payload, dict) and payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
            hint = " It looks like a bare state_dict: use --model upstream:<cnn|transformer|gan>:PATH or `ivif import-upstream`."
        raise ValueError(f"{path} is not an ivif checkpoint (no format {FORMAT!r}).{hint}")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise ValueError(f"{path} is an incomplete ivif checkpoint: missing {missing}; {CHECKPOINT_FIX}")
    if payload["format"] == FORMAT:
        verify_payload(payload, path, CHECKPOINT_FIX)
    else:
        log.warning("%s: a %s checkpoint has no content hash, so corruption in it cannot be detected; retrain it to get a checked file", path, payload["format"])
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
