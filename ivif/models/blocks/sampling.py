"""Resolution changes by pixel (un)shuffle: no information is thrown away or invented.

Down: a 3x3 conv halves the channels, then ``PixelUnshuffle(2)`` folds each 2x2
neighbourhood into channels (x4), so channels double while H and W halve.
Up: ``PixelShuffle(2)`` unfolds channels into 2x2 neighbourhoods (channels / 4), then a
3x3 conv brings them to half the input channels.
"""

from __future__ import annotations

import torch
from torch import nn

SCALE = 2  # every resampling step halves or doubles H and W


class PixelUnshuffleDown(nn.Module):
    """(B, C, H, W) -> (B, 2C, H/2, W/2): conv to C/2 channels, then pixel-unshuffle."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels // 2, kernel_size=3, padding=1)
        self.unshuffle = nn.PixelUnshuffle(SCALE)
        self.out_channels = in_channels // 2 * SCALE**2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.unshuffle(self.conv(x))


class PixelShuffleUp(nn.Module):
    """(B, C, H, W) -> (B, C/2, 2H, 2W): pixel-shuffle to C/4 channels, then conv to C/2."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.shuffle = nn.PixelShuffle(SCALE)
        self.conv = nn.Conv2d(in_channels // SCALE**2, in_channels // 2, kernel_size=3, padding=1)
        self.out_channels = in_channels // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.shuffle(x))
