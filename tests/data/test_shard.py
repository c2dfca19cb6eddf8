"""WebDataset shards: deterministic bytes, fixed headers, splits, keys, metadata."""

from __future__ import annotations

import tarfile

import pytest

from ivif.data.digest import sha256_file
from ivif.data.images import read_ir, read_vi
from ivif.data.ingest import IngestError
from ivif.data.layout import plan_splits
from ivif.data.registry import get_dataset
from ivif.data.shard import TAR_OWNER, load_summary, sample_key, write_shards
from ivif.data.shard_reader import iter_samples, split_tars
from ivif.data.split import SplitRule

RULE = SplitRule(test_fraction=0.25, seed=0)


def _shard(spec_name, raw, out, **kw):
    plan = plan_splits(get_dataset(spec_name), raw, RULE)
    return write_shards(spec_name, plan, out, samples_per_tar=kw.pop("samples_per_tar", 1000), progress=False, **kw)


@pytest.fixture(scope="module")
def sample_shards(tmp_path_factory, sample_dir):
    out = tmp_path_factory.mktemp("shards") / "sample"
    _shard("sample", sample_dir, out)
    return out


def test_same_input_gives_identical_bytes(sample_shards, sample_dir, tmp_path):
    again = tmp_path / "again"
    _shard("sample", sample_dir, again, samples_per_tar=1000)
    first = sorted(p.relative_to(sample_shards) for p in sample_shards.rglob("*.tar"))
    assert first == sorted(p.relative_to(again) for p in again.rglob("*.tar"))
    for rel in first:
        assert sha256_file(sample_shards / rel) == sha256_file(again / rel)
    assert (sample_shards / "shards.json").read_bytes() == (again / "shards.json").read_bytes()


def test_tar_headers_are_fixed_and_order_sorted(sample_shards):
    for tar_path in sample_shards.rglob("*.tar"):
        with tarfile.open(tar_path) as tar:
            members = tar.getmembers()
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {(0, 0, 0, TAR_OWNER, TAR_OWNER, 0o444)}
        keys = [m.name.split(".")[0] for m in members]
        assert keys == sorted(keys)
        assert all(m.name.count(".") == 1 for m in members)  # dot-free keys


def test_summary_records_split_counts_and_hashes(sample_shards, sample_dir):
    summary = load_summary(sample_shards)
    assert summary["dataset"] == "sample"
    assert summary["split_rule"] == {"kind": "seeded", "test_fraction": 0.25, "seed": 0}
    assert {s: info["count"] for s, info in summary["splits"].items()} == {"train": 12, "test": 4}
    for info in summary["splits"].values():
        for entries in info["tars"].values():
            for entry in entries:
                assert sha256_file(sample_shards / entry["path"]) == entry["sha256"]


def test_tars_round_trip_source_pixels(sample_shards, sample_dir):
    seen = set()
    for split in ("train", "test"):
        tars = split_tars(sample_shards, split)
        for modality, reader in (("ir", read_ir), ("vi", read_vi)):
            for sample in iter_samples(tars[modality]):
                source = sample_dir / modality / sample.meta["name"]
                assert (sample.pixels == reader(source).pixels).all()
                assert sample.meta["split"] == split and sample.meta["modality"] == modality
                assert (sample.meta["height"], sample.meta["width"]) == sample.pixels.shape[:2]
                seen.add((modality, sample.key))
    assert len(seen) == 32


def test_official_split_and_rollover(tmp_path, shared, copy_pairs):
    msrs = shared / "data" / "msrs13"
    names = sorted(p.stem for p in (msrs / "ir").iterdir())
    raw = tmp_path / "raw"
    copy_pairs(msrs, raw / "train", names[:4])
    copy_pairs(msrs, raw / "test", names[4:])
    summary = _shard("msrs", raw, tmp_path / "shards", samples_per_tar=3)
    assert summary["split_rule"] == {"kind": "official"}
    assert summary["splits"]["train"]["count"] == 4 and summary["splits"]["test"]["count"] == 9
    assert [e["path"] for e in summary["splits"]["test"]["tars"]["vi"]] == [
        "test/vi-000000.tar", "test/vi-000001.tar", "test/vi-000002.tar"
    ]
    keys = [s.key for s in iter_samples(split_tars(tmp_path / "shards", "test")["vi"])]
    assert keys == names[4:]


def test_bad_pairs_fail_whole_or_are_skipped_and_listed(tmp_path, shared, copy_pairs):
    raw = copy_pairs(shared / "data" / "msrs13", tmp_path / "raw", ["00004N", "00012N", "00016N"])
    (raw / "vi" / "00012N.png").write_bytes(b"broken")
    with pytest.raises(IngestError, match="00012N.png"):
        _shard("sample", raw, tmp_path / "fail")
    assert not (tmp_path / "fail").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["raw"]  # no temp leftovers
    summary = _shard("sample", raw, tmp_path / "skip", skip_bad=True)
    assert sum(info["count"] for info in summary["splits"].values()) == 2
    assert [s["path"] for s in summary["skipped"]] == [str(raw / "vi" / "00012N.png")]


def test_keys_are_dot_free_and_collisions_refused(tmp_path, shared, copy_pairs):
    assert sample_key("scene.01 a") == "scene_01_a"
    raw = copy_pairs(shared / "data" / "msrs13", tmp_path / "raw", ["00004N", "00012N"])
    for sub in ("ir", "vi"):
        (raw / sub / "00004N.png").rename(raw / sub / "a.b.png")
        (raw / sub / "00012N.png").rename(raw / sub / "a_b.png")
    with pytest.raises(ValueError, match="both become key 'a_b'"):
        _shard("sample", raw, tmp_path / "out")


def test_per_sample_json_for_colour_visible(tmp_path, shared, copy_pairs):
    raw = copy_pairs(shared / "data" / "vifb21", tmp_path / "raw", ["carLight", "fight"])
    _shard("sample", raw, tmp_path / "out")
    metas = {}
    for split in ("train", "test"):
        for modality in ("ir", "vi"):
            for s in iter_samples(split_tars(tmp_path / "out", split)[modality]):
                metas[(modality, s.key)] = s.meta
    ir, vi = metas[("ir", "carLight")], metas[("vi", "carLight")]
    assert vi["channels"] == 3 and vi["source_mode"] == "RGB" and vi["conversion"] == "none"
    assert ir["channels"] == 1 and ir["source_mode"] == "RGB" and ir["conversion"] == "equal-channels-to-gray"
    assert ir["name"] == "carLight.jpg" and ir["key"] == "carLight" and ir["dataset"] == "sample"
    assert (ir["height"], ir["width"]) == (vi["height"], vi["width"])
    assert ir["split"] == vi["split"] in ("train", "test")


def test_a_killed_earlier_runs_temporaries_are_swept(tmp_path, sample_dir):
    import subprocess
    import sys

    from ivif.data.layout import plan_splits
    from ivif.data.registry import get_dataset
    from ivif.data.split import SplitRule

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".sample.ivif-tmp-{dead.pid}-0123abcd"  # what `ivif data shard` killed mid-way leaves
    (stale / "train").mkdir(parents=True)
    (stale / "train" / "ir-000000.tar").write_bytes(b"half")
    write_shards("sample", plan_splits(get_dataset("sample"), sample_dir, SplitRule()), tmp_path / "sample",
                 samples_per_tar=100, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"]
