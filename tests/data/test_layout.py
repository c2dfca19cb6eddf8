"""The pipeline's folder layout has one owner: DataConfig / ivif.data.layout; the CLI's
defaults, the cache builder's output and the pairing step all agree with it."""

from __future__ import annotations

from pathlib import Path

import yaml

from ivif.cli import main
from ivif.data.cache import ImageCache
from ivif.data.config import DataConfig
from ivif.data.layout import cache_dir, dataset_dir, split_dir
from ivif.pairing import build


def test_layout_functions():
    assert dataset_dir("roots/cache", "tno") == Path("roots/cache/tno")
    assert split_dir(Path("roots/shards/tno"), "test") == Path("roots/shards/tno/test")
    assert cache_dir("roots/cache", "tno", "test") == Path("roots/cache/tno/test")
    assert build.cache_dir is cache_dir  # pairing finds caches by the same layout


def test_data_config_applies_the_layout_to_its_roots():
    config = DataConfig(raw_root="r", shard_root="s", cache_root="c")
    assert config.raw_dir("sample") == Path("r/sample")
    assert config.shard_dir("sample") == Path("s/sample")
    assert config.cache_dataset_dir("sample") == Path("c/sample")
    assert config.cache_dir("sample", "test") == Path("c/sample/test") == split_dir(config.cache_dataset_dir("sample"), "test")


def test_cli_defaults_follow_the_layout(tmp_path, sample_dir, capsys):
    """fetch -> shard -> cache with no paths given: every folder is where DataConfig says."""
    params = tmp_path / "params.yaml"
    roots = {"raw_root": str(tmp_path / "raw"), "shard_root": str(tmp_path / "shards"), "cache_root": str(tmp_path / "cache")}
    params.write_text(yaml.safe_dump({"data": {"sample_dir": str(sample_dir), "download_dir": str(tmp_path / "dl"), **roots}}))
    config = DataConfig(sample_dir=str(sample_dir), **roots)
    for action in ("fetch", "shard", "cache"):
        assert main(["data", action, "sample", "--params", str(params), "--no-progress"]) == 0
    assert config.raw_dir("sample").is_dir()
    assert sorted(p.name for p in config.shard_dir("sample").iterdir() if p.is_dir()) == ["test", "train"]
    for split in ("train", "test"):
        assert ImageCache(config.cache_dir("sample", split)).meta["split"] == split
