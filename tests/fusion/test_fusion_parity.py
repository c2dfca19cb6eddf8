"""ivif's fusion reproduces the released checkpoints' reference outputs (max |delta| <= 1e-5).

The default selection covers every checkpoint with both protocols (on the odd-sized,
colour RoadScene pair), the duplicated-tile weighting (MSRS, 640 x 480) and a large
image; IVIF_FULL_PARITY=1 runs all 3 models x 3 pairs x 2 protocols.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from ivif.fusion import fuse_array
from ivif.fusion.io import read_gray
from ivif.models.contract import SIZE_MULTIPLE

from .conftest import REFERENCE_PAIRS

TOLERANCE = 1e-5
DEFAULT_CASES = [
    *itertools.product(["cnn", "transformer", "gan"], ["full", "tiled"], ["roadscene_FLIR_00006"]),
    ("cnn", "tiled", "msrs_00004N"),
    ("transformer", "full", "tno_01"),
]
ALL_CASES = list(itertools.product(["cnn", "transformer", "gan"], ["full", "tiled"], REFERENCE_PAIRS))
CASES = ALL_CASES if os.environ.get("IVIF_FULL_PARITY") else DEFAULT_CASES


def reference_inputs(shared, pair: str, protocol: str) -> np.ndarray:
    """(2, H, W) inputs as the references were made: PIL "L" / 255, cropped for ``full``."""
    folder, name = REFERENCE_PAIRS[pair]
    ir = read_gray(shared / "data" / folder / "ir" / name)
    vi = read_gray(shared / "data" / folder / "vi" / name)
    inputs = np.stack((ir, vi))
    if protocol == "full":  # top-left crop to a multiple of 4
        height, width = (size - size % SIZE_MULTIPLE for size in inputs.shape[1:])
        inputs = inputs[:, :height, :width]
    return inputs


@pytest.mark.parametrize("model_name,protocol,pair", CASES)
def test_matches_upstream_reference(model_name, protocol, pair, shared, upstream_model, reference_output):
    fused = fuse_array(upstream_model(model_name), reference_inputs(shared, pair, protocol), mode=protocol)
    expected = reference_output(model_name, pair, protocol)
    assert fused.shape == expected.shape
    assert np.abs(fused - expected).max() <= TOLERANCE
