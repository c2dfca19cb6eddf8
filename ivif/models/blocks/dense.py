"""Densely connected convolution blocks (DenseNet-style, pre-activation bottleneck)."""

from __future__ import annotations

import torch
from torch import nn

# The 1x1 bottleneck is this many times wider than the growth of a layer (DenseNet-B).
BOTTLENECK_FACTOR = 2


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1-BN-ReLU-Conv3x3, its ``growth`` new channels appended to the input.

    Shapes: (B, C, H, W) -> (B, C + growth, H, W).
    """

    def __init__(self, in_channels: int, growth: int) -> None:
        super().__init__()
        bottleneck = growth * BOTTLENECK_FACTOR
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, bottleneck, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bottleneck)
        self.conv2 = nn.Conv2d(bottleneck, growth, kernel_size=3, padding=1, bias=False)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        new = self.conv1(self.act(self.norm1(x)))
        new = self.conv2(self.act(self.norm2(new)))
        return torch.cat((x, new), dim=1)


class DenseBlock(nn.Module):
    """``num_layers`` :class:`DenseLayer` in sequence; each sees all earlier features.

    Shapes: (B, C, H, W) -> (B, C + num_layers * growth, H, W).
    """

    def __init__(self, in_channels: int, growth: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(in_channels + i * growth, growth) for i in range(num_layers))
        self.out_channels = in_channels + num_layers * growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x
