"""The Transformer baseline: channel-attention encoder layers in the CNN's U-shape.

Data flow (widths for the default config, input 2 x H x W):

    stem     1x1 conv                                            -> s0  16 @ H
    enc1     encoder layer, down (pixel-unshuffle)               -> s1  32 @ H/2
    enc2     encoder layer, down                                 -> s2  64 @ H/4
    skip_k   token MLP (local channel gate) on s_k               -> f_k
    bottom   encoder layer on [s2, f2], up                       ->     64 @ H/2
    dec      encoder layer on [up, f1, s1], up                   ->     64 @ H
    head     1x1 conv + ReLU + 1x1 conv + tanh on [up, s0, f0]   ->      1 @ H

Unlike the CNN, skip features are *concatenated* with their token-MLP refinement.
Encoder layer = GroupNorm + multi-head channel self-attention, GroupNorm + pixel MLP,
both residual (:mod:`ivif.models.blocks.attention`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ivif.models.blocks import ChannelAttentionEncoder, LocalChannelGate, PixelShuffleUp, PixelUnshuffleDown, TokenMLP
from ivif.models.blocks.attention import NORM_GROUPS
from ivif.models.contract import IN_CHANNELS, OUT_CHANNELS, check_fusion_input
from ivif.models.registry import register_model


@dataclass(frozen=True)
class TransformerConfig:
    """Widths of :class:`ChannelAttentionUNet`; the defaults are the paper's (187,417 parameters)."""

    in_channels: int = IN_CHANNELS
    out_channels: int = OUT_CHANNELS
    stem_width: int = 16
    # Hidden width of the skip token MLPs at full, 1/2 and 1/4 resolution / their input width.
    mlp_ratios: tuple[int, int, int] = (4, 3, 3)
    heads: int = 8
    ff_hidden: int = 64
    layers_per_stage: int = 1
    gate_kernel: int = 3
    head_width: int = 32

    def __post_init__(self) -> None:
        object.__setattr__(self, "mlp_ratios", tuple(self.mlp_ratios))  # YAML/JSON give lists
        if len(self.mlp_ratios) != 3:
            raise ValueError(f"mlp_ratios needs 3 values (full, 1/2, 1/4 resolution), got {self.mlp_ratios}")
        if min(self.in_channels, self.out_channels, self.stem_width, self.heads, self.ff_hidden, self.layers_per_stage, self.head_width, *self.mlp_ratios) < 1:
            raise ValueError(f"all widths must be positive: {self}")
        if self.stem_width % NORM_GROUPS:
            raise ValueError(f"stem_width must be a multiple of {NORM_GROUPS}, got {self.stem_width}")
        if self.gate_kernel % 2 == 0:
            raise ValueError(f"gate_kernel must be odd, got {self.gate_kernel}")


class ChannelAttentionUNet(nn.Module):
    """Transformer fusion network. Input (B, 2, H, W) = [IR, VIS luma] in [0, 1], H and W
    multiples of 4; output (B, 1, H, W) fused luminance, tanh so in [-1, 1]."""

    def __init__(self, config: TransformerConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or TransformerConfig()

        def encoder(channels: int) -> ChannelAttentionEncoder:
            return ChannelAttentionEncoder(channels, config.heads, config.ff_hidden, config.layers_per_stage)

        def skip(channels: int, ratio: int) -> TokenMLP:
            hidden = channels * ratio
            return TokenMLP(channels, hidden, LocalChannelGate(hidden, config.gate_kernel))

        s0 = config.stem_width
        self.stem = nn.Conv2d(config.in_channels, s0, kernel_size=1)
        self.skip0 = skip(s0, config.mlp_ratios[0])

        self.enc1 = encoder(s0)
        self.down1 = PixelUnshuffleDown(s0)
        s1 = self.down1.out_channels
        self.skip1 = skip(s1, config.mlp_ratios[1])

        self.enc2 = encoder(s1)
        self.down2 = PixelUnshuffleDown(s1)
        s2 = self.down2.out_channels
        self.skip2 = skip(s2, config.mlp_ratios[2])

        self.bottom = encoder(2 * s2)
        self.up1 = PixelShuffleUp(2 * s2)

        dec_width = self.up1.out_channels + 2 * s1
        self.dec = encoder(dec_width)
        self.up2 = PixelShuffleUp(dec_width)

        self.head = nn.Sequential(
            nn.Conv2d(self.up2.out_channels + 2 * s0, config.head_width, kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(config.head_width, config.out_channels, kernel_size=1),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_fusion_input(x, self.config.in_channels)
        s0 = self.stem(x)
        s1 = self.down1(self.enc1(s0))
        s2 = self.down2(self.enc2(s1))
        bottom = self.up1(self.bottom(torch.cat((s2, self.skip2(s2)), dim=1)))
        dec = self.up2(self.dec(torch.cat((bottom, self.skip1(s1), s1), dim=1)))
        return self.head(torch.cat((dec, s0, self.skip0(s0)), dim=1))


@register_model
def transformer(**kwargs) -> ChannelAttentionUNet:
    """The paper's Transformer baseline (187,417 parameters with the default config)."""
    return ChannelAttentionUNet(TransformerConfig(**kwargs))
