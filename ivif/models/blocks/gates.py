"""Channel gates for token sequences (efficient channel attention, ECA-style).

Both gates rescale every channel of a token sequence ``(B, N, C)`` by a sigmoid weight
computed from a pooled descriptor, mixing only neighbouring channels (a band of width
``kernel_size``) so the gate stays cheap:

- :class:`GlobalChannelGate` (the CNN): one descriptor per image, the mean over all
  tokens, mixed by a 1-D convolution across channels. The gate therefore depends on the
  whole input, so outputs of a tile differ from the same region of a full image.
- :class:`LocalChannelGate` (the Transformer): one descriptor per token, the mean of the
  token and its two neighbours *in raster order* (zero padded at the ends, which wraps
  across image rows, as the released weights were trained), mixed by a banded linear map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_KERNEL_SIZE = 3  # channels mixed per gate weight
TOKEN_POOL_SIZE = 3  # tokens averaged per local descriptor


def global_channel_gate(tokens: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Scale channels by ``sigmoid(conv1d(mean over tokens))``.

    Args:
        tokens: (B, N, C).
        kernel: (1, 1, K) 1-D convolution across channels, K odd, zero padded.
    Returns:
        (B, N, C).
    """
    return tokens * global_gate_weights(tokens, kernel)


def global_gate_weights(tokens: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The (B, 1, C) channel weights :func:`global_channel_gate` multiplies ``tokens`` (B, N, C) by."""
    descriptor = tokens.mean(dim=1, keepdim=True)  # (B, 1, C)
    return torch.sigmoid(F.conv1d(descriptor, kernel, padding=kernel.shape[-1] // 2))


def band_mask(channels: int, kernel_size: int) -> torch.Tensor:
    """(C, C) 0/1 mask keeping ``|i - j| <= kernel_size // 2``: each output channel sees its neighbours."""
    index = torch.arange(channels)
    return ((index[:, None] - index[None, :]).abs() <= kernel_size // 2).float()


def local_channel_gate(tokens: torch.Tensor, weight: torch.Tensor, mask: torch.Tensor, pool_size: int) -> torch.Tensor:
    """Scale channels by ``sigmoid((weight * mask) @ avgpool_tokens(tokens))``.

    Args:
        tokens: (B, N, C) in raster order.
        weight: (C, C) linear map across channels (no bias).
        mask: (C, C) band mask applied to ``weight``.
        pool_size: odd number of neighbouring tokens averaged (zero padded, padding counted).
    Returns:
        (B, N, C).
    """
    pooled = F.avg_pool1d(tokens.transpose(1, 2), pool_size, stride=1, padding=pool_size // 2).transpose(1, 2)
    weights = torch.sigmoid(F.linear(pooled, weight * mask))
    return tokens * weights


class GlobalChannelGate(nn.Module):
    """Module form of :func:`global_channel_gate`; shapes (B, N, C) -> (B, N, C)."""

    def __init__(self, kernel_size: int = DEFAULT_KERNEL_SIZE) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return global_channel_gate(tokens, self.conv.weight)

    def weights(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, 1, C) weights this gate would multiply ``tokens`` (B, N, C) by."""
        return global_gate_weights(tokens, self.conv.weight)


class LocalChannelGate(nn.Module):
    """Module form of :func:`local_channel_gate`; shapes (B, N, C) -> (B, N, C).

    The full (C, C) weight is a parameter (masked entries stay untrained); the band mask
    is derived from the sizes, so it is not stored in checkpoints.
    """

    def __init__(self, channels: int, kernel_size: int = DEFAULT_KERNEL_SIZE, pool_size: int = TOKEN_POOL_SIZE) -> None:
        super().__init__()
        self.pool_size = pool_size
        self.kernel_size = kernel_size
        self.weight = nn.Parameter(torch.empty(channels, channels))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)  # nn.Linear's default init
        self.register_buffer("mask", band_mask(channels, kernel_size), persistent=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return local_channel_gate(tokens, self.weight, self.mask, self.pool_size)
