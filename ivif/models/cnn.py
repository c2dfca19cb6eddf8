"""The CNN baseline: a dense U-shaped network with token-MLP skip fusion and a tanh head.

Data flow (widths for the default config, input 2 x H x W):

    stem     1x1 conv + GroupNorm + LeakyReLU                  -> s0   16 @ H
    enc1     dense block (2 x growth 4), down (pixel-unshuffle) -> s1   48 @ H/2
    enc2     dense block (2 x growth 4), down                   -> s2  112 @ H/4
    skip_k   token MLP (4x wider, global channel gate) on s_k   -> f_k
    bottom   dense block on s2 + f2 (2 x growth 8), up          ->      64 @ H/2
    dec      dense block on [up, s1 + f1] (2 x growth 8), up    ->      64 @ H
    head     3x3 conv + ReLU + 1x1 conv + tanh on [up, s0 + f0, input] -> 1 @ H

Skip features are *added* to their token-MLP refinement before being reused.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ivif.models.blocks import DenseBlock, GlobalChannelGate, PixelShuffleUp, PixelUnshuffleDown, TokenMLP
from ivif.models.contract import IN_CHANNELS, OUT_CHANNELS, check_fusion_input
from ivif.models.registry import register_model

STEM_NORM_GROUPS = 2


@dataclass(frozen=True)
class CNNConfig:
    """Widths of :class:`DenseFusionCNN`; the defaults are the paper's (214,882 parameters)."""

    in_channels: int = IN_CHANNELS
    out_channels: int = OUT_CHANNELS
    stem_width: int = 16
    # Growth of the four dense blocks: enc1, enc2, bottom, dec.
    growth: tuple[int, int, int, int] = (4, 4, 8, 8)
    layers_per_block: int = 2
    mlp_ratio: int = 4  # hidden width of the skip token MLPs / their input width
    gate_kernel: int = 3
    head_width: int = 32

    def __post_init__(self) -> None:
        object.__setattr__(self, "growth", tuple(self.growth))  # YAML/JSON give lists
        if len(self.growth) != 4:
            raise ValueError(f"growth needs 4 values (enc1, enc2, bottom, dec), got {self.growth}")
        if min(self.in_channels, self.out_channels, self.stem_width, self.layers_per_block, self.mlp_ratio, self.head_width, *self.growth) < 1:
            raise ValueError(f"all widths must be positive: {self}")
        if self.stem_width % STEM_NORM_GROUPS:
            raise ValueError(f"stem_width must be a multiple of {STEM_NORM_GROUPS}, got {self.stem_width}")
        if self.gate_kernel % 2 == 0:
            raise ValueError(f"gate_kernel must be odd, got {self.gate_kernel}")


def _skip_fusion(channels: int, config: CNNConfig) -> TokenMLP:
    return TokenMLP(channels, channels * config.mlp_ratio, GlobalChannelGate(config.gate_kernel))


class DenseFusionCNN(nn.Module):
    """CNN fusion network. Input (B, 2, H, W) = [IR, VIS luma] in [0, 1], H and W multiples
    of 4; output (B, 1, H, W) fused luminance, tanh so in [-1, 1]."""

    def __init__(self, config: CNNConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or CNNConfig()
        g_enc1, g_enc2, g_bottom, g_dec = config.growth
        layers = config.layers_per_block

        self.stem = nn.Sequential(
            nn.Conv2d(config.in_channels, config.stem_width, kernel_size=1),
            nn.GroupNorm(STEM_NORM_GROUPS, config.stem_width),
            nn.LeakyReLU(),
        )
        s0 = config.stem_width
        self.skip0 = _skip_fusion(s0, config)

        self.enc1 = DenseBlock(s0, g_enc1, layers)
        self.down1 = PixelUnshuffleDown(self.enc1.out_channels)
        s1 = self.down1.out_channels
        self.skip1 = _skip_fusion(s1, config)

        self.enc2 = DenseBlock(s1, g_enc2, layers)
        self.down2 = PixelUnshuffleDown(self.enc2.out_channels)
        s2 = self.down2.out_channels
        self.skip2 = _skip_fusion(s2, config)

        self.bottom = DenseBlock(s2, g_bottom, layers)
        self.up1 = PixelShuffleUp(self.bottom.out_channels)

        self.dec = DenseBlock(self.up1.out_channels + s1, g_dec, layers)
        self.up2 = PixelShuffleUp(self.dec.out_channels)

        self.head = nn.Sequential(
            nn.Conv2d(self.up2.out_channels + s0 + config.in_channels, config.head_width, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(config.head_width, config.out_channels, kernel_size=1),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_fusion_input(x, self.config.in_channels)
        s0 = self.stem(x)
        s1 = self.down1(self.enc1(s0))
        s2 = self.down2(self.enc2(s1))
        bottom = self.up1(self.bottom(s2 + self.skip2(s2)))
        dec = self.up2(self.dec(torch.cat((bottom, s1 + self.skip1(s1)), dim=1)))
        return self.head(torch.cat((dec, s0 + self.skip0(s0), x), dim=1))


def build_cnn(**kwargs) -> DenseFusionCNN:
    """A :class:`DenseFusionCNN` from :class:`CNNConfig` fields."""
    return DenseFusionCNN(CNNConfig(**kwargs))


@register_model
def cnn(**kwargs) -> DenseFusionCNN:
    """The paper's CNN baseline (214,882 parameters with the default config)."""
    return build_cnn(**kwargs)
