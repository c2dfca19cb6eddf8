"""Channel self-attention ("transposed" attention) and the encoder layer built on it.

Attention runs across channels, not pixels: per head, a (C x C) attention map from
L2-normalised query/key channel vectors over all H*W positions, scaled by a learned
per-head temperature. Every head gets its own per-channel projection of each channel
(grouped 1x1 convs: channel c, head e gives q = a_q x_c + b_q, likewise k and v), and the
heads of each channel are merged by another grouped 1x1 conv.

Because every query, key and value is an *affine function of a single input channel*,
the whole layer is a per-image (C x C) linear map of the input plus a constant, and that
map depends on the input only through its channel Gram matrix X X^T, channel sums and
pixel count. :func:`affine_channel_attention` computes it that way: O(C^2 N) work and no
(heads x C x N) query/key/value tensors, instead of materialising them (3 x heads times
the activations). The result equals the direct computation up to float rounding.
"""

from __future__ import annotations

import torch
from torch import nn

NORM_GROUPS = 2  # GroupNorm groups of the pre-norms (independent of batch and image size)
QKV = 3
NORMALIZE_EPS = 1e-12  # as torch.nn.functional.normalize


def affine_channel_attention(
    x: torch.Tensor,
    qkv_scale: torch.Tensor,
    qkv_shift: torch.Tensor,
    temperature: torch.Tensor,
    merge_weight: torch.Tensor,
    merge_bias: torch.Tensor,
    statistics: tuple[torch.Tensor, torch.Tensor, int] | None = None,
) -> torch.Tensor:
    """Multi-head channel self-attention with per-channel affine q, k, v.

    For head e and channels c, d (N pixels)::

        q_ce = a_q[c,e] x_c + b_q[c,e]   (k, v alike)
        P_e  = softmax_d(t_e * <q_ce, k_de> / (|q_ce| |k_de|))
        y_c  = sum_e w[c,e] sum_d P_e[c,d] v_de + bias_c

    with <q_ce, k_de> and the norms expanded over the Gram matrix G = X X^T, the channel
    sums S and N, so y = M X + m with M[c,d] = sum_e w[c,e] P_e[c,d] a_v[d,e].

    Args:
        x: (B, C, N) input channels (flattened pixels).
        qkv_scale, qkv_shift: (C, 3, heads) a and b for q, k, v.
        temperature: (heads,).
        merge_weight: (C, heads); merge_bias: (C,).
        statistics: (G, S, N) to use instead of those of ``x`` (streamed fusion of a huge
            image passes the whole image's while ``x`` is one tile).
    Returns:
        (B, C, N).
    """
    # Statistics in float64 and outside autocast: the expansion subtracts large terms.
    with torch.autocast(device_type=x.device.type, enabled=False):
        gram, sums, pixels = channel_statistics(x) if statistics is None else statistics
        scale, shift = qkv_scale.double().permute(1, 2, 0), qkv_shift.double().permute(1, 2, 0)  # (3, heads, C)
        (a_q, a_k, a_v), (b_q, b_k, b_v) = scale, shift

        def norm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # |a x_c + b| -> (B, heads, C)
            squared = a**2 * gram.diagonal(dim1=1, dim2=2)[:, None] + 2 * a * b * sums[:, None] + b**2 * pixels
            return squared.clamp_min(0).sqrt().clamp_min(NORMALIZE_EPS)

        dots = (
            a_q[:, :, None] * a_k[:, None, :] * gram[:, None]
            + (a_q[:, :, None] * sums[:, None, :, None]) * b_k[:, None, :]
            + b_q[:, :, None] * (a_k[:, None, :] * sums[:, None, None, :])
            + b_q[:, :, None] * b_k[:, None, :] * pixels
        )  # (B, heads, C, C)
        cosine = dots / (norm(a_q, b_q)[..., :, None] * norm(a_k, b_k)[..., None, :])
        attention = (cosine * temperature.double()[:, None, None]).softmax(dim=-1)
        weight = merge_weight.double().t()[:, :, None]  # (heads, C, 1)
        mixing = (weight * attention * a_v[:, None, :]).sum(dim=1)  # (B, C, C)
        offset = (weight[..., 0] * (attention * b_v[:, None, :]).sum(dim=-1)).sum(dim=1) + merge_bias.double()  # (B, C)
    return torch.baddbmm(offset.to(x.dtype)[..., None], mixing.to(x.dtype), x)


def channel_statistics(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(B, C, N) -> float64 Gram matrix (B, C, C), channel sums (B, C) and N: all the
    attention map of :func:`affine_channel_attention` depends on."""
    x64 = x.double()
    return x64 @ x64.transpose(1, 2), x64.sum(dim=-1), x.shape[-1]


class ChannelSelfAttention(nn.Module):
    """Multi-head channel self-attention; shapes (B, C, H, W) -> (B, C, H, W).

    Parameters keep the grouped-conv layout (``qkv``: C -> C * 3 * heads, ``merge``:
    C * heads -> C, both ``groups=C``) so the weights read like the paper's; the forward
    pass uses the closed form :func:`affine_channel_attention`.
    """

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(1, heads, 1, 1))
        # Output channel c * (3 * heads) + j belongs to input channel c; j indexes (q|k|v, head).
        self.qkv = nn.Conv2d(channels, channels * heads * QKV, kernel_size=1, groups=channels)
        # Merges the heads of each channel back into one channel.
        self.merge = nn.Conv2d(channels * heads, channels, kernel_size=1, groups=channels)

    def forward(self, x: torch.Tensor, statistics: tuple[torch.Tensor, torch.Tensor, int] | None = None) -> torch.Tensor:
        batch, channels, height, width = x.shape
        out = affine_channel_attention(
            x.reshape(batch, channels, height * width),
            self.qkv.weight.view(channels, QKV, self.heads),
            self.qkv.bias.view(channels, QKV, self.heads),
            self.temperature.view(self.heads),
            self.merge.weight.view(channels, self.heads),
            self.merge.bias,
            statistics,
        )
        return out.view(batch, channels, height, width)


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
