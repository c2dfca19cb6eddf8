"""The decoded cache format (ivif.data.cache): write, read back, fail cleanly."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from ivif.data.cache import (
    CACHE_FORMAT,
    CacheError,
    CacheIntegrityError,
    ImageCache,
    write_cache,
)
from ivif.data.digest import json_sha256

RNG = np.random.default_rng(0)


def _records():
    return [
        ("a", RNG.integers(0, 256, (5, 7), dtype=np.uint8), RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)),
        ("b", RNG.integers(0, 256, (4, 3), dtype=np.uint8), RNG.integers(0, 256, (4, 3), dtype=np.uint8)),
        ("c", RNG.integers(0, 256, (2, 9, 1), dtype=np.uint8), RNG.integers(0, 256, (2, 9, 1), dtype=np.uint8)),
    ]


def test_round_trip_shapes_and_pixels(tmp_path):
    records = _records()
    write_cache(tmp_path / "c", records, {"dataset": "x", "split": "train"})
    cache = ImageCache(tmp_path / "c")
    assert len(cache) == 3 and cache.names == ["a", "b", "c"]
    assert cache.meta["format"] == CACHE_FORMAT and cache.meta["dataset"] == "x"
    for i, (_, ir, vi) in enumerate(records):
        assert np.array_equal(cache.ir(i), ir.reshape(ir.shape[:2]))
        expected_vi = vi if vi.ndim == 3 else vi[:, :, None]
        assert np.array_equal(cache.vi(i), expected_vi)
        assert cache.shape("vi", i) == expected_vi.shape
    assert cache.shape("ir", 1) == (4, 3, 1)
    assert not cache.ir(0).flags.writeable  # the cache is read-only


def test_pickles_without_pixels(tmp_path):
    write_cache(tmp_path / "c", _records())
    cache = ImageCache(tmp_path / "c")
    cache.ir(0)  # open the memmaps
    clone = pickle.loads(pickle.dumps(cache))
    assert clone._data is None
    assert len(pickle.dumps(cache)) < 2000
    assert np.array_equal(clone.vi(0), cache.vi(0))


def test_empty_cache(tmp_path):
    write_cache(tmp_path / "c", [])
    cache = ImageCache(tmp_path / "c")
    assert len(cache) == 0 and cache.names == []


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (("x", np.zeros((2, 2), np.float32), np.zeros((2, 2), np.uint8)), "expected uint8"),
        (("x", np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.uint8)), "IR must have one channel"),
        (("x", np.zeros((2, 2), np.uint8), np.zeros((2, 2, 4), np.uint8)), r"expected \(H, W\)"),
    ],
)
def test_bad_records_leave_nothing(tmp_path, record, message):
    with pytest.raises(CacheError, match=message):
        write_cache(tmp_path / "c", [record])
    assert list(tmp_path.iterdir()) == []


def test_duplicate_names_rejected_and_old_cache_kept(tmp_path):
    write_cache(tmp_path / "c", _records()[:1])
    a = _records()[0]
    with pytest.raises(CacheError, match="duplicate"):
        write_cache(tmp_path / "c", [a, a])
    assert ImageCache(tmp_path / "c").names == ["a"]
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


def test_meta_cannot_override_reserved_keys(tmp_path):
    with pytest.raises(CacheError, match="reserved"):
        write_cache(tmp_path / "c", _records(), {"format": "mine"})


def test_reader_errors_name_the_fix(tmp_path):
    with pytest.raises(CacheError, match="ivif data cache"):
        ImageCache(tmp_path)
    write_cache(tmp_path / "c", _records())
    meta_path = tmp_path / "c" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "format": "ivif-cache/0"}))
    with pytest.raises(CacheError, match="rebuild the cache"):
        ImageCache(tmp_path / "c")
    meta_path.write_text(json.dumps({**meta, "names": ["a"]}))  # edited by hand: refused by its own hash
    with pytest.raises(CacheIntegrityError, match=rf"{meta_path}: corrupt: content does not match its meta_sha256"):
        ImageCache(tmp_path / "c")
    edited = {**meta, "names": ["a"]}
    meta_path.write_text(json.dumps({**edited, "meta_sha256": json_sha256(edited, "meta_sha256")}))  # re-sealed, still inconsistent
    with pytest.raises(CacheError, match="shape .* for 1 names"):
        ImageCache(tmp_path / "c")
    with pytest.raises(ValueError, match="modality"):
        ImageCache.__new__(ImageCache).image("rgb", 0)
