"""The closed-form channel attention equals the direct (materialised q, k, v) computation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ivif.models.blocks.attention import ChannelSelfAttention


def direct_channel_attention(module: ChannelSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """The textbook computation: grouped 1x1 convs, per-head normalised channel attention."""
    batch, channels, height, width = x.shape
    heads = module.heads
    qkv = module.qkv(x).view(batch, channels, 3 * heads, height * width).transpose(1, 2)
    query, key, value = qkv.chunk(3, dim=1)  # (B, heads, C, N)
    query, key = F.normalize(query, dim=-1), F.normalize(key, dim=-1)
    attention = (query @ key.transpose(-2, -1) * module.temperature).softmax(dim=-1)
    out = (attention @ value).transpose(1, 2).reshape(batch, channels * heads, height, width)
    return module.merge(out)


def test_closed_form_matches_direct_computation():
    torch.manual_seed(0)
    module = ChannelSelfAttention(channels=6, heads=4)
    with torch.no_grad():
        module.temperature.uniform_(0.5, 3.0)
    x = torch.randn(3, 6, 12, 10) * 2 + 0.5  # non-zero mean exercises the shift terms
    assert torch.allclose(module(x), direct_channel_attention(module, x), atol=1e-5)


def test_closed_form_gradients_match():
    torch.manual_seed(1)
    module = ChannelSelfAttention(channels=4, heads=2)
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    closed = torch.autograd.grad(module(x).square().sum(), [x, *module.parameters()])
    direct = torch.autograd.grad(direct_channel_attention(module, x).square().sum(), [x, *module.parameters()])
    for got, want in zip(closed, direct):
        assert torch.allclose(got, want, atol=1e-4, rtol=1e-4)
