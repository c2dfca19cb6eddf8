"""Device choice and the inference context (no grad; float16 autocast on CUDA)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")
AMP_DTYPE = torch.float16  # CUDA autocast dtype; outputs are cast back to float32


def resolve_device(choice: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if choice not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {choice!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda requested but no CUDA GPU is available; use --device cpu or auto")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


@contextlib.contextmanager
def inference_mode(device: torch.device, amp: bool = True) -> Iterator[None]:
    """No autograd; mixed precision (float16 autocast) when on CUDA and ``amp``."""
    with torch.inference_mode():
        if device.type == "cuda" and amp:
            with torch.autocast("cuda", dtype=AMP_DTYPE):
                yield
        else:
            yield
