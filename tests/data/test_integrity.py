"""One changed byte in any stored data artefact is reported by file name, with the fix.

Real shards and caches of the embedded sample (data/sample); each test corrupts a copy
and checks the reader that would otherwise use the bytes, and `ivif data verify`.
"""

from __future__ import annotations

import shutil
import struct
import tarfile
import zlib

import numpy as np
import pytest
import yaml

from ivif.cli import main
from ivif.data.cache import CacheIntegrityError, ImageCache, index_file, pixel_file
from ivif.data.cache_build import build_caches
from ivif.data.layout import plan_splits
from ivif.data.registry import get_dataset
from ivif.data.shard import (
    SUMMARY_NAME,
    ShardIntegrityError,
    load_summary,
    write_shards,
)
from ivif.data.shard_reader import ShardSampleError, iter_samples, split_tars
from ivif.data.split import SplitRule


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_dir):
    work = tmp_path_factory.mktemp("integrity")
    plan = plan_splits(get_dataset("sample"), sample_dir, SplitRule())
    write_shards(
        "sample", plan, work / "shards" / "sample", samples_per_tar=5, progress=False
    )
    build_caches(work / "shards" / "sample", work / "cache" / "sample", progress=False)
    return work


@pytest.fixture
def work(built, tmp_path, sample_dir):
    """A fresh copy of the built shards and caches plus a params.yaml pointing at them."""
    for sub in ("shards", "cache"):
        shutil.copytree(built / sub, tmp_path / sub)
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump(
            {
                "data": {
                    "datasets": ["sample"],
                    "sample_dir": str(sample_dir),
                    "shard_root": str(tmp_path / "shards"),
                    "cache_root": str(tmp_path / "cache"),
                },
            }
        )
    )
    return tmp_path


def _flip(path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _member_offset(tar_path, suffix: str) -> tuple[int, int, str]:
    """(data offset, size, name) of the first member of ``tar_path`` ending in ``suffix``."""
    with tarfile.open(tar_path) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(suffix))
        return member.offset_data, member.size, member.name


def _verify(work, *targets) -> int:
    return main(["data", "verify", *targets, "--params", str(work / "params.yaml")])


def test_intact_data_verifies(work, capsys):
    assert _verify(work) == 0
    out = capsys.readouterr().out
    assert (
        "ok  shards" in out and out.count("ok  cache") == 2 and "0 bad file(s)" in out
    )


def test_changed_byte_in_a_shard_tar_is_named_before_anything_is_built(work, capsys):
    tar = work / "shards" / "sample" / "train" / "ir-000000.tar"
    offset, size, _ = _member_offset(tar, ".png")
    _flip(tar, offset + size // 2)
    with pytest.raises(
        ShardIntegrityError, match=rf"{tar}: corrupt shard.*dvc repro shard@sample"
    ):
        build_caches(work / "shards" / "sample", work / "cache2", progress=False)
    assert not (work / "cache2").exists()
    assert _verify(work, "sample") == 1
    assert f"BAD {tar}: corrupt shard" in capsys.readouterr().out


def test_changed_byte_in_a_samples_json_inside_a_tar_is_named(work):
    # today's failure: the cache was built with wrong source names
    tar = work / "shards" / "sample" / "test" / "vi-000000.tar"
    offset, size, _ = _member_offset(tar, ".json")
    _flip(tar, offset + size // 2)
    with pytest.raises(ShardIntegrityError, match=rf"{tar}: corrupt shard"):
        split_tars(work / "shards" / "sample", "test")


def test_changed_byte_in_a_shards_json_entry_is_named(work, capsys):
    summary_path = work / "shards" / "sample" / SUMMARY_NAME
    text = summary_path.read_text()
    entry = load_summary(work / "shards" / "sample")["splits"]["train"]["tars"]["vi"][
        0
    ]["sha256"]
    at = text.index(entry) + 5
    summary_path.write_text(
        text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1 :]
    )
    with pytest.raises(
        ShardIntegrityError,
        match=rf"{summary_path}: content does not match.*dvc repro shard@sample",
    ):
        build_caches(work / "shards" / "sample", work / "cache2", progress=False)
    assert _verify(work, str(work / "shards" / "sample")) == 1
    assert f"BAD {summary_path}" in capsys.readouterr().out


def test_corrupt_png_inside_a_tar_names_the_tar_and_the_sample(work):
    tar = work / "shards" / "sample" / "train" / "ir-000000.tar"
    offset, size, name = _member_offset(tar, ".png")
    data = bytearray(tar.read_bytes())
    data[offset + size // 2 : offset + size // 2 + 64] = (
        b"\xff" * 64
    )  # a broken deflate stream
    tar.write_bytes(bytes(data))
    key = name.removesuffix(".png")
    with pytest.raises(
        ShardSampleError,
        match=rf"{tar}: sample '{key}' cannot be decoded.*dvc repro shard@sample",
    ):
        list(
            iter_samples([tar])
        )  # even a reader that skipped the hash check names the sample


@pytest.mark.parametrize("modality", ["ir", "vi"])
def test_changed_byte_in_a_cache_pixel_file_is_named(work, modality, capsys):
    cache = work / "cache" / "sample" / "train"
    path = cache / pixel_file(modality)
    _flip(path, path.stat().st_size // 3)
    with pytest.raises(CacheIntegrityError, match=rf"{path}: corrupt.*dvc repro cache@sample") as caught:
        ImageCache(cache)
    assert str(caught.value).startswith(f"{path}: corrupt")  # one plain message per bad file
    assert _verify(work, str(work / "cache" / "sample")) == 1
    out = capsys.readouterr().out
    assert (
        f"BAD {path}: corrupt" in out
        and f"ok  cache {work / 'cache' / 'sample' / 'test'}" in out
    )


def test_changed_offset_in_a_cache_index_is_named_even_without_pixel_checks(work):
    # today's failure: `ivif evaluate` scored misaligned images
    cache = work / "cache" / "sample" / "test"
    path = cache / index_file("vi")
    index = np.load(path)
    header = path.stat().st_size - index.nbytes
    _flip(path, header + index.itemsize * 4)  # low byte of row 1's offset
    with pytest.raises(CacheIntegrityError, match=rf"{path}: corrupt"):
        ImageCache(cache, verify=False)


def test_changed_byte_in_cache_meta_is_named(work):
    meta = work / "cache" / "sample" / "test" / "meta.json"
    text = meta.read_text()
    at = text.index('"names"') + 20
    meta.write_text(text[:at] + chr(ord(text[at]) ^ 1) + text[at + 1 :])
    with pytest.raises(CacheIntegrityError, match=rf"{meta}"):
        ImageCache(meta.parent)


def test_verify_names_an_unknown_target(work, capsys):
    assert _verify(work, "nothing-here") == 1
    assert (
        "nothing-here: not a dataset with shards or caches" in capsys.readouterr().err
    )


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` grayscale pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_listed_and_skippable_when_sharding(
    tmp_path, sample_dir, copy_pairs
):
    from ivif.data.ingest import IngestError

    raw = copy_pairs(sample_dir, tmp_path / "raw")
    victim = min((raw / "ir").iterdir())
    victim.write_bytes(_bomb_png(30000, 30000))
    plan = plan_splits(get_dataset("sample"), raw, SplitRule())
    with pytest.raises(IngestError, match=rf"(?s){victim}: .*--skip-bad"):
        write_shards(
            "sample", plan, tmp_path / "shards", samples_per_tar=5, progress=False
        )
    summary = write_shards(
        "sample",
        plan,
        tmp_path / "shards",
        samples_per_tar=5,
        skip_bad=True,
        progress=False,
    )
    assert [s["path"] for s in summary["skipped"]] == [str(victim)]
    assert sum(info["count"] for info in summary["splits"].values()) == 15


def test_shard_command_skips_and_lists_a_bomb_with_skip_bad(tmp_path, sample_dir, copy_pairs, capsys):
    raw = copy_pairs(sample_dir, tmp_path / "raw")
    victim = min((raw / "vi").iterdir())
    victim.write_bytes(_bomb_png(20000, 20000))
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"data": {"shard_root": str(tmp_path / "shards")}}))
    args = ["data", "shard", "sample", "--raw", str(raw), "--params", str(params), "--no-progress"]
    assert main(args) == 1  # not an uncaught DecompressionBombError
    assert str(victim) in capsys.readouterr().err
    assert main([*args, "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert f"skipped: {victim}: " in out and "(train 11, test 4 pairs)" in out
    assert sum(info["count"] for info in load_summary(tmp_path / "shards" / "sample")["splits"].values()) == 15
