"""Token MLP with a channel gate: the skip-connection fusion block of both baselines.

Each pixel is a token; an expanding linear layer + GELU, a channel gate, and a projection
back to the input width. Shapes: (B, C, H, W) -> (B, C, H, W).

A :class:`GlobalChannelGate` scales each hidden channel by one weight per image, and
scaling the projection's inputs is scaling its weight's columns: project(h · g) =
h @ (g ⊙ Wᵀ) + b. So that gate is folded into a per-image projection weight (B, hidden, C)
instead of multiplying the widest tensor of the block (4× the input width), which saves
one full pass over it forward and two backward. Same result up to float rounding.
"""

from __future__ import annotations

import torch
from torch import nn

from ivif.models.blocks.gates import GlobalChannelGate


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
        hidden = self.act(self.expand(tokens))
        if isinstance(self.gate, GlobalChannelGate):  # per-image gate: fold it into the projection
            weight = self.gate.weights(hidden).transpose(1, 2) * self.project.weight.t()  # (B, hidden, C)
            tokens = torch.baddbmm(self.project.bias, hidden, weight)
        else:
            tokens = self.project(self.gate(hidden))
        return tokens.transpose(1, 2).reshape(batch, channels, height, width)
