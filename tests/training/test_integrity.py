"""Training refuses corrupt caches: a flipped pixel or offset is named before any step."""

from __future__ import annotations

import numpy as np
import pytest

from ivif.data.cache import CacheIntegrityError, index_file, pixel_file
from ivif.params import load_params
from ivif.training.run import apply_overrides, train_from_params

from .conftest import DATASET


def _train(params_path, out_dir):
    params = apply_overrides(load_params(params_path), ())
    return train_from_params(params, root=params_path.parent, track=False, progress=False, out_dir=out_dir)


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_pixel_in_the_training_cache_is_named_not_trained_on(tiny_project, tmp_path):
    pixels = tiny_project.parent / "data" / "cache" / DATASET / "train" / pixel_file("vi")
    _flip(pixels, pixels.stat().st_size // 2)
    with pytest.raises(CacheIntegrityError, match=rf"{pixels}: corrupt"):
        _train(tiny_project, tmp_path / "run")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_flipped_offset_in_the_training_cache_is_named(tiny_project, tmp_path):
    index = tiny_project.parent / "data" / "cache" / DATASET / "train" / index_file("ir")
    rows = np.load(index)
    _flip(index, index.stat().st_size - rows.nbytes + rows.itemsize * 4)  # row 1's offset
    with pytest.raises(CacheIntegrityError, match=rf"{index}: corrupt"):
        _train(tiny_project, tmp_path / "run")
