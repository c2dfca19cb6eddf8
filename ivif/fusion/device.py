"""Device choice, model preparation and the inference context (no grad; float16 autocast on CUDA).

Fusion runs convolutions in channels-last memory format: on CPU (oneDNN) and on CUDA
tensor cores it is markedly faster for these narrow networks (about 1.5x on CPU), and
the results agree with the default format to float rounding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")
AMP_DTYPE = torch.float16  # CUDA autocast dtype; outputs are cast back to float32


def resolve_device(choice: str = "auto", setting: str = "--device") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error.

    ``setting`` is how the caller's user chose the device (``--device`` for ``ivif fuse``
    and ``ivif evaluate``, ``train.device`` for training); error messages name it, so
    the fix they suggest is one the user can type.
    """
    if choice not in DEVICE_CHOICES:
        raise ValueError(f"{setting}: unknown device {choice!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{_assignment(setting, 'cuda')} requested but no CUDA GPU is available; use {_assignment(setting, 'cpu')} or {_assignment(setting, 'auto')}"
        )
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def _assignment(setting: str, value: str) -> str:
    """How a user writes ``value`` for ``setting``: ``--device cpu`` or ``train.device=cpu``."""
    return f"{setting} {value}" if setting.startswith("-") else f"{setting}={value}"


MEMORY_FORMAT = torch.channels_last


def prepare_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` moved (in place) to ``device`` in channels-last format, in eval mode."""
    return model.to(device=device, memory_format=MEMORY_FORMAT).eval()


def as_model_input(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) in the memory format fusion runs models in."""
    return x.contiguous(memory_format=MEMORY_FORMAT)


@contextlib.contextmanager
def inference_mode(device: torch.device, amp: bool = True) -> Iterator[None]:
    """No autograd; mixed precision (float16 autocast) when on CUDA and ``amp``."""
    with torch.inference_mode():
        if device.type == "cuda" and amp:
            with torch.autocast("cuda", dtype=AMP_DTYPE):
                yield
        else:
            yield
