"""Input validation shared by the loss functions (one message format everywhere)."""

from __future__ import annotations

import torch


def check_images(**images: torch.Tensor) -> None:
    """Require (B, 1, H, W) floating tensors, all of one shape.

    Raises ``ValueError`` naming the offending argument.
    """
    shape = None
    for name, image in images.items():
        if not torch.is_tensor(image) or not image.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got {type(image).__name__}")
        if image.ndim != 4 or image.shape[1] != 1:
            raise ValueError(f"{name} must have shape (B, 1, H, W), got {tuple(image.shape)}")
        if shape is None:
            shape = image.shape
        elif image.shape != shape:
            raise ValueError(f"{name} has shape {tuple(image.shape)}, expected {tuple(shape)} like the other inputs")
