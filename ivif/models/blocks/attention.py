"""Channel self-attention ("transposed" attention) and the encoder layer built on it.

Attention runs across channels, not pixels: per head, a (C x C) attention map from
L2-normalised query/key channel vectors over all H*W positions, scaled by a learned
per-head temperature. Cost grows linearly with the number of pixels, so any image size
works. Each head gets its own 1x1 projection of every channel (grouped convs), and the
heads are merged per channel by another grouped 1x1 conv.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NORM_GROUPS = 2  # GroupNorm groups of the pre-norms (independent of batch and image size)
QKV = 3


def channel_self_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """softmax(norm(q) @ norm(k)^T * t) @ v, attention over channels.

    Args:
        query, key, value: (B, heads, C, N) with N = H * W.
        temperature: broadcastable to (B, heads, C, C), e.g. (1, heads, 1, 1).
    Returns:
        (B, heads, C, N).
    """
    query = F.normalize(query, dim=-1)
    key = F.normalize(key, dim=-1)
    attention = (query @ key.transpose(-2, -1) * temperature).softmax(dim=-1)
    return attention @ value


class ChannelSelfAttention(nn.Module):
    """Multi-head channel self-attention; shapes (B, C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(1, heads, 1, 1))
        # Output channel c * (3 * heads) + j belongs to input channel c; j indexes (q|k|v, head).
        self.qkv = nn.Conv2d(channels, channels * heads * QKV, kernel_size=1, groups=channels)
        # Merges the heads of each channel back into one channel.
        self.merge = nn.Conv2d(channels * heads, channels, kernel_size=1, groups=channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        qkv = self.qkv(x).view(batch, channels, QKV * self.heads, height * width).transpose(1, 2)
        query, key, value = qkv.chunk(QKV, dim=1)  # each (B, heads, C, N)
        out = channel_self_attention(query, key, value, self.temperature)
        out = out.transpose(1, 2).reshape(batch, channels * self.heads, height, width)
        return self.merge(out)


class PixelFeedForward(nn.Module):
    """Per-pixel MLP Linear(C -> hidden) + GELU + Linear(hidden -> C); (B, C, H, W) -> same."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.expand = nn.Linear(channels, hidden)
        self.act = nn.GELU()
        self.project = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.permute(0, 2, 3, 1)  # channels last
        return self.project(self.act(self.expand(tokens))).permute(0, 3, 1, 2)


class ChannelAttentionEncoderLayer(nn.Module):
    """Pre-norm residual layer: x + attn(norm(x)), then x + ff(norm(x)); (B, C, H, W) -> same."""

    def __init__(self, channels: int, heads: int, ff_hidden: int) -> None:
        super().__init__()
        self.attn_norm = nn.GroupNorm(NORM_GROUPS, channels)
        self.attn = ChannelSelfAttention(channels, heads)
        self.ff_norm = nn.GroupNorm(NORM_GROUPS, channels)
        self.ff = PixelFeedForward(channels, ff_hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x))
        return x + self.ff(self.ff_norm(x))


class ChannelAttentionEncoder(nn.Module):
    """``num_layers`` :class:`ChannelAttentionEncoderLayer` in sequence."""

    def __init__(self, channels: int, heads: int, ff_hidden: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(ChannelAttentionEncoderLayer(channels, heads, ff_hidden) for _ in range(num_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x
