"""Token MLP with a channel gate: the skip-connection fusion block of both baselines.

Each pixel is a token; an expanding linear layer + GELU, a channel gate, and a projection
back to the input width. Shapes: (B, C, H, W) -> (B, C, H, W).
"""

from __future__ import annotations

import torch
from torch import nn


class TokenMLP(nn.Module):
    """Linear(C -> hidden) + GELU, ``gate`` on the hidden tokens, Linear(hidden -> C)."""

    def __init__(self, channels: int, hidden: int, gate: nn.Module) -> None:
        super().__init__()
        self.expand = nn.Linear(channels, hidden)
        self.act = nn.GELU()
        self.gate = gate
        self.project = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # (B, HW, C), raster order
        tokens = self.project(self.gate(self.act(self.expand(tokens))))
        return tokens.transpose(1, 2).reshape(batch, channels, height, width)
