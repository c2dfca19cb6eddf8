"""Streamed ``full`` fusion (huge images in bounded memory) equals one ``full`` pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ivif.fusion import FusionPair, fuse_array, fuse_pair_uint8
from ivif.fusion.device import inference_mode, prepare_model
from ivif.fusion.full import fuse_full
from ivif.fusion.io import read_pair
from ivif.fusion.streamed import fuse_streamed, unit_reader

FULL_TOLERANCE = 2e-5  # float rounding: statistics are summed in a different order
CORE = 32  # small windows, so a small image has many (edges, corners, the padded end)
SIZE = (150, 118)  # neither a multiple of 4 nor of the window


@pytest.fixture(scope="module")
def inputs(shared) -> np.ndarray:
    pair = read_pair(shared / "data/msrs13/ir/00004N.png", shared / "data/msrs13/vi/00004N.png")
    return pair.stacked()[:, : SIZE[0], : SIZE[1]].copy()


def _full(model, x: np.ndarray) -> np.ndarray:
    with inference_mode(torch.device("cpu")):
        return fuse_full(model, torch.from_numpy(x)[None])[0, 0].numpy()


def test_streamed_equals_one_full_pass(upstream_model, inputs):
    model = prepare_model(upstream_model("cnn"), torch.device("cpu"))  # the GAN's generator is this CNN
    full = _full(model, inputs)
    streamed = fuse_streamed(model, unit_reader(inputs), *SIZE, core=CORE)
    assert np.abs(streamed - full).max() < FULL_TOLERANCE
    # windows alone (their own GroupNorm / gate statistics) would be far off: the test can fail
    local = np.concatenate([_full(model, inputs[:, :, :64]), _full(model, inputs[:, :, 64:])], axis=1)
    assert np.abs(local - full).max() > 100 * FULL_TOLERANCE


def test_transformer_differs_only_at_the_raster_wrap_columns(upstream_model, inputs):
    model = prepare_model(upstream_model("transformer"), torch.device("cpu"))
    diff = np.abs(fuse_streamed(model, unit_reader(inputs), *SIZE, core=CORE) - _full(model, inputs))
    assert diff[:, 4:-4].max() < FULL_TOLERANCE and diff.max() < 1e-3


def test_full_mode_switches_to_streaming_above_the_threshold(upstream_model, inputs):
    model = prepare_model(upstream_model("cnn"), torch.device("cpu"))
    assert np.abs(fuse_array(model, inputs, stream_above=10_000) - fuse_array(model, inputs)).max() < FULL_TOLERANCE
    ir, vi = (np.round(inputs[i] * 255).astype(np.uint8) for i in range(2))
    rgb = np.stack((vi, np.roll(vi, 3, axis=1), ir), axis=-1)
    pair = FusionPair("x", ir, rgb)
    streamed, whole = (
        fuse_pair_uint8(model, pair, stream_above=10_000),
        fuse_pair_uint8(model, pair),
    )  # default windows: one
    assert streamed.shape == (*SIZE, 3) and np.abs(streamed.astype(int) - whole).max() <= 1  # 8-bit rounding
