"""Fusion of any image pair with a fusion model: ``full`` (one padded pass, streamed in
windows for huge images) or ``tiled``
(the upstream protocol), colour handling and file I/O."""

from ivif.fusion.full import fuse_full, pad_to_multiple
from ivif.fusion.io import FusionPair, match_pairs, read_pair, write_fused
from ivif.fusion.runner import (
    MODES,
    FusionJob,
    FusionReport,
    fuse_array,
    fuse_files,
    fuse_pair,
    fuse_pair_uint8,
)
from ivif.fusion.tiled import TileConfig, fuse_tiled

__all__ = [
    "MODES",
    "FusionJob",
    "FusionPair",
    "FusionReport",
    "TileConfig",
    "fuse_array",
    "fuse_files",
    "fuse_full",
    "fuse_pair",
    "fuse_pair_uint8",
    "fuse_tiled",
    "match_pairs",
    "pad_to_multiple",
    "read_pair",
    "write_fused",
]
