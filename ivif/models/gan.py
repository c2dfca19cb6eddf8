"""The GAN baseline: the CNN architecture as generator, and a patch discriminator.

The generator is exactly :class:`~ivif.models.cnn.DenseFusionCNN` (the released
``gan.model`` has the CNN's state_dict layout); only training differs. The discriminator
scores 128 x 128 single-channel images (fused or source crops): a strided conv stem,
one channel-attention encoder layer, and a linear score head giving one logit per image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ivif.models.blocks import ChannelAttentionEncoderLayer
from ivif.models.blocks.attention import NORM_GROUPS
from ivif.models.cnn import DenseFusionCNN, build_cnn
from ivif.models.registry import register_model

STEM_STRIDE = 2  # every stem conv halves H and W
LEAKY_SLOPE = 0.2  # the usual GAN discriminator slope


@register_model
def gan(**kwargs) -> DenseFusionCNN:
    """The GAN baseline's generator: the CNN architecture (214,882 parameters by default)."""
    return build_cnn(**kwargs)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Shape of :class:`Discriminator`. ``image_size`` is fixed because the head is linear."""

    in_channels: int = 1
    image_size: int = 128
    stem_widths: tuple[int, ...] = (16, 32, 64, 64)
    heads: int = 4
    ff_hidden: int = 64

    def __post_init__(self) -> None:
        object.__setattr__(self, "stem_widths", tuple(self.stem_widths))
        if not self.stem_widths or min(self.in_channels, self.heads, self.ff_hidden, *self.stem_widths) < 1:
            raise ValueError(f"all widths must be positive and stem_widths non-empty: {self}")
        if self.image_size % STEM_STRIDE ** len(self.stem_widths):
            raise ValueError(f"image_size {self.image_size} must be divisible by {STEM_STRIDE ** len(self.stem_widths)}")
        if self.stem_widths[-1] % NORM_GROUPS:
            raise ValueError(f"the last stem width must be a multiple of {NORM_GROUPS}")

    @property
    def feature_size(self) -> int:
        """Side of the feature map after the stem."""
        return self.image_size // STEM_STRIDE ** len(self.stem_widths)


class Discriminator(nn.Module):
    """Input (B, in_channels, S, S) with S = ``image_size`` (128), values in [0, 1] or
    [-1, 1]; output (B, 1) raw realness logits (use with a logits loss)."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DiscriminatorConfig()
        layers: list[nn.Module] = []
        width = config.in_channels
        for out_width in config.stem_widths:
            layers += [nn.Conv2d(width, out_width, kernel_size=3, stride=STEM_STRIDE, padding=1), nn.LeakyReLU(LEAKY_SLOPE)]
            width = out_width
        self.stem = nn.Sequential(*layers)
        self.attention = ChannelAttentionEncoderLayer(width, config.heads, config.ff_hidden)
        self.score = nn.Linear(width * config.feature_size**2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.config.in_channels, self.config.image_size, self.config.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"discriminator expects (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        return self.score(self.attention(self.stem(x)).flatten(1))


def create_discriminator(**kwargs) -> Discriminator:
    """A :class:`Discriminator` from :class:`DiscriminatorConfig` fields."""
    return Discriminator(DiscriminatorConfig(**kwargs))
