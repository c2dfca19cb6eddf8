"""Loading torch files as weights only, with errors that name the file and the fix.

Every checkpoint, upstream weight file and MLflow model artifact is read through
:func:`load_weights` (``torch.load(..., weights_only=True)``). When torch refuses a file,
its own message advises ``weights_only=False``, i.e. running the file's pickled code;
that advice must never reach users, so the error is replaced by one that says what the
file holds and how to get a loadable one.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

DEFAULT_FIX = "re-save it as a plain state_dict (tensors only) or an ivif checkpoint (`ivif import-upstream` converts upstream weights)"
_UNSUPPORTED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")
_DETAIL_CHARS = 160  # at most this much of a low-level error is quoted


class WeightsLoadError(ValueError):
    """A torch file that cannot be loaded as weights only (unreadable or holding code)."""


class UnsafeWeightsError(WeightsLoadError):
    """A torch file whose pickle holds objects other than tensors and plain values."""


def load_weights(path: str | Path, map_location: str | torch.device = "cpu", fix: str = DEFAULT_FIX) -> Any:
    """``torch.load(path, weights_only=True)``; :class:`WeightsLoadError` naming ``path`` and ``fix``.

    Raises :class:`UnsafeWeightsError` for a pickle that needs arbitrary objects (never
    loaded: nothing from the file runs), :class:`WeightsLoadError` for a truncated or
    foreign file, and ``FileNotFoundError`` for a missing one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _UNSUPPORTED_GLOBAL.search(str(exc))
        if found is None:  # not a pickle torch.save writes (garbage, another format)
            raise WeightsLoadError(
                f"{path}: not a readable PyTorch file (its content is not a torch.save pickle). Fix: copy or download it again, or {fix}"
            ) from None  # torch's message advises weights_only=False: not for our users
        raise UnsafeWeightsError(
            f"{path}: holds Python objects other than tensors and plain values (it references {found.group(1)}); "
            f"ivif loads weights only and never runs code stored in a file. Fix: {fix}"
        ) from None
    except (RuntimeError, EOFError, KeyError, ValueError, OSError, AttributeError, TypeError) as exc:
        detail = str(exc).splitlines()[0][:_DETAIL_CHARS] if str(exc) else ""
        raise WeightsLoadError(
            f"{path}: not a readable PyTorch file ({type(exc).__name__}{': ' + detail if detail else ''}); it is truncated or "
            f"was not written by torch.save. Fix: copy or download it again, or {fix}"
        ) from None
