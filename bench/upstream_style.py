"""The upstream formulation: how the paper's code computes the same model and loss.

ivif rewrites some computations into cheaper, mathematically equal forms (the channel
attention in closed form, the CNN's per-image channel gate folded into its projection,
the SSIM loss sharing moments and filtering with matrix products). The benchmarks time
ivif against the way the paper's code computes, so the baseline must not inherit those
rewrites. This module gives the baseline its own forms, written the straightforward way
(the attention's query/key/value materialised, the gate an explicit multiply, each
SSIM term filtering its own five moment planes with convolutions). Outputs equal ivif's
up to float rounding; the benches print the difference. Not used by the library.
"""

from __future__ import annotations

import copy
import types

import torch
import torch.nn.functional as F

from ivif.losses import LossConfig, LossTerms, gaussian_window, gradient_loss, intensity_loss, ssim_weights
from ivif.models.blocks.attention import ChannelSelfAttention
from ivif.models.blocks.token_mlp import TokenMLP

SSIM_K1, SSIM_K2 = 0.01, 0.03


# ------------------------------------------------------------------------- model
def _direct_attention(self: ChannelSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """Channel attention with q, k, v materialised by the grouped 1x1 conv."""
    batch, channels, height, width = x.shape
    qkv = self.qkv(x).view(batch, channels, 3 * self.heads, height * width).transpose(1, 2).contiguous()
    query, key, value = qkv.chunk(3, dim=1)
    query, key = F.normalize(query, dim=-1), F.normalize(key, dim=-1)
    attention = (query @ key.transpose(-2, -1) * self.temperature).softmax(dim=-1)
    out = (attention @ value).transpose(1, 2).reshape(batch, channels * self.heads, height, width)
    return self.merge(out)


def _gated_token_mlp(self: TokenMLP, x: torch.Tensor) -> torch.Tensor:
    """Token MLP with the gate multiplying the hidden tokens."""
    batch, channels, height, width = x.shape
    tokens = x.flatten(2).transpose(1, 2)
    tokens = self.project(self.gate(self.act(self.expand(tokens))))
    return tokens.transpose(1, 2).reshape(batch, channels, height, width)


def upstream_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """A copy of ``model`` on ``device``, default memory format, computing the upstream way."""
    model = copy.deepcopy(model).to(device=device, memory_format=torch.contiguous_format)
    for module in model.modules():
        if isinstance(module, ChannelSelfAttention):
            module.forward = types.MethodType(_direct_attention, module)
        elif isinstance(module, TokenMLP):
            module.forward = types.MethodType(_gated_token_mlp, module)
    return model


# -------------------------------------------------------------------------- loss
def _gaussian_filter(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' filter of (N, 1, H, W) by two one-channel convolutions."""
    k = window.numel()
    return F.conv2d(F.conv2d(x, window.view(1, 1, 1, k)), window.view(1, 1, k, 1))


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean SSIM per image (11x11 Gaussian window, data range 1): (B, 1, H, W) x 2 -> (B,)."""
    window = gaussian_window(dtype=x.dtype, device=x.device)
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    mu_x, mu_y, e_xx, e_yy, e_xy = _gaussian_filter(torch.cat([x, y, x * x, y * y, x * y]), window).split(x.shape[0])
    var_x, var_y, cov = e_xx - mu_x**2, e_yy - mu_y**2, e_xy - mu_x * mu_y
    similarity = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1) * (2 * cov + c2) / (var_x + var_y + c2)
    return similarity.mean(dim=(1, 2, 3))


def fusion_loss(fused: torch.Tensor, ir: torch.Tensor, vi: torch.Tensor, config: LossConfig = LossConfig()) -> LossTerms:
    """:func:`ivif.losses.fusion_loss` with each SSIM term computed on its own."""
    s_ir, s_vi = ssim(ir, fused), ssim(vi, fused)
    w_ir, w_vi = ssim_weights(s_ir, s_vi, config.eps)
    structural = (1 - (w_ir * s_ir + w_vi * s_vi)).mean()
    intensity = intensity_loss(fused, ir, vi, config.eps)
    gradient = gradient_loss(fused, ir, vi, config.eps)
    return LossTerms(config.alpha * intensity + gradient + config.beta * structural, intensity, gradient, structural)
