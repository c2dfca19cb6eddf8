"""Fusion models with known behaviour, built on the real CNN architecture.

``contrast_fusion(gain, offset)`` outputs tanh(gain * (ir + vi) / 2 + offset): the CNN
head sees the raw input, so zeroing every other path leaves an exact, contrast-scaled
average fusion. A larger gain gives strictly more contrast (SD, SF, AG, EN), which lets
gate tests know which candidate is better without training anything.
"""

from __future__ import annotations

import torch

SMALL_CNN = {"stem_width": 4, "growth": (2, 2, 4, 4), "head_width": 4}
STRONG = {"gain": 1.5, "offset": 0.0}
WEAK = {"gain": 0.2, "offset": 0.5}
CONTRAST_METRICS = ("EN", "SD", "SF", "AG")


@torch.no_grad()
def contrast_fusion(gain: float, offset: float, seed: int = 0):
    from ivif.models import create_model

    torch.manual_seed(seed)
    model = create_model("cnn", **SMALL_CNN).eval()
    mix, _, project, _ = model.head
    mix.weight.zero_()
    mix.bias.zero_()
    ir_channel, vi_channel = mix.in_channels - 2, mix.in_channels - 1  # the raw input comes last
    centre = mix.kernel_size[0] // 2
    mix.weight[0, ir_channel, centre, centre] = 0.5
    mix.weight[0, vi_channel, centre, centre] = 0.5
    project.weight.zero_()
    project.weight[0, 0] = gain
    project.bias.fill_(offset)
    return model
