"""Building blocks shared by the fusion networks (one concern per module)."""

from ivif.models.blocks.attention import ChannelAttentionEncoder, ChannelAttentionEncoderLayer, ChannelSelfAttention
from ivif.models.blocks.dense import DenseBlock, DenseLayer
from ivif.models.blocks.gates import GlobalChannelGate, LocalChannelGate
from ivif.models.blocks.sampling import PixelShuffleUp, PixelUnshuffleDown
from ivif.models.blocks.token_mlp import TokenMLP

__all__ = [
    "ChannelAttentionEncoder",
    "ChannelAttentionEncoderLayer",
    "ChannelSelfAttention",
    "DenseBlock",
    "DenseLayer",
    "GlobalChannelGate",
    "LocalChannelGate",
    "PixelShuffleUp",
    "PixelUnshuffleDown",
    "TokenMLP",
]
