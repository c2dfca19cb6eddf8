"""Shards -> cache round trip: every pixel equals the source, provenance recorded."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ivif.data.cache import ImageCache
from ivif.data.cache_build import ShardMismatchError, build_caches
from ivif.data.digest import combined_sha256, json_sha256
from ivif.data.images import read_ir, read_vi
from ivif.data.layout import plan_splits
from ivif.data.registry import get_dataset
from ivif.data.shard import SUMMARY_HASH_KEY, load_summary, write_shards
from ivif.data.split import SplitRule

ROADSCENE_PICK = 24  # enough of RoadScene's 218 odd sizes to exercise them, fast on 2 cores


def _shard_and_cache(raw, tmp_path):
    plan = plan_splits(get_dataset("sample"), raw, SplitRule())
    write_shards("sample", plan, tmp_path / "shards", samples_per_tar=5, progress=False)
    return build_caches(tmp_path / "shards", tmp_path / "cache", progress=False)


def _assert_cache_equals_sources(caches, raw):
    total = 0
    for split, root in caches.items():
        cache = ImageCache(root)
        assert cache.meta["split"] == split
        for i, name in enumerate(cache.names):
            files = cache.meta["sources"][name]
            ir, vi = read_ir(raw / "ir" / files["ir"]).pixels, read_vi(raw / "vi" / files["vi"]).pixels
            assert np.array_equal(cache.ir(i), ir)
            vi_cached = cache.vi(i)
            assert np.array_equal(vi_cached[:, :, 0] if vi.ndim == 2 else vi_cached, vi)
            total += 1
    return total


@pytest.fixture(scope="module")
def sample_built(tmp_path_factory, sample_dir):
    """(work dir with shards/ and cache/, split -> cache dir) for the embedded sample."""
    work = tmp_path_factory.mktemp("sample_cache")
    return work, _shard_and_cache(sample_dir, work)


def test_sample_round_trip(sample_built, sample_dir):
    _, caches = sample_built
    assert set(caches) == {"train", "test"}
    assert _assert_cache_equals_sources(caches, sample_dir) == 16


@pytest.mark.parametrize("name", ["msrs13", "vifb21", "roadscene221"])
def test_messy_real_sets_round_trip(tmp_path, shared, copy_pairs, name):
    src = shared / "data" / name
    stems = sorted(p.stem for p in (src / "ir").iterdir())[:ROADSCENE_PICK]
    raw = copy_pairs(src, tmp_path / "raw", stems)
    caches = _shard_and_cache(raw, tmp_path)
    assert _assert_cache_equals_sources(caches, raw) == len(stems)
    channels = {ImageCache(root).shape("vi", 0)[2] for root in caches.values()}
    assert channels == {3}  # colour visible stays colour


def test_meta_pins_the_source_tars(sample_built):
    work, caches = sample_built
    summary = load_summary(work / "shards")
    meta = ImageCache(caches["test"]).meta
    hashes = {e["path"]: e["sha256"] for m in ("ir", "vi") for e in summary["splits"]["test"]["tars"][m]}
    assert meta["shards"] == hashes
    assert meta["source_sha256"] == combined_sha256(hashes)
    assert meta["dataset"] == "sample" and meta["split_rule"]["kind"] == "seeded"
    assert meta["source_sha256"] != ImageCache(caches["train"]).meta["source_sha256"]


def test_mismatched_tars_are_refused(tmp_path, sample_built):
    shutil.copytree(sample_built[0] / "shards", tmp_path / "shards")
    summary_path = tmp_path / "shards" / "shards.json"
    summary = json.loads(summary_path.read_text())
    summary["splits"]["train"]["tars"]["vi"] = summary["splits"]["train"]["tars"]["vi"][:1]  # drop a tar
    summary[SUMMARY_HASH_KEY] = json_sha256(summary, SUMMARY_HASH_KEY)  # a consistent (re-sealed) but wrong summary
    summary_path.write_text(json.dumps(summary))
    with pytest.raises(ShardMismatchError, match="different numbers of samples"):
        build_caches(tmp_path / "shards", tmp_path / "cache2", progress=False)
    assert not (tmp_path / "cache2").exists()


def test_missing_shards_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="ivif data shard"):
        build_caches(tmp_path / "nothing", tmp_path / "cache", progress=False)
