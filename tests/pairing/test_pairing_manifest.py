"""Pairing manifests on disk (ivif.pairing.manifest) built from real caches."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pytest

from ivif.pairing import PairingError, PairManifest, load_manifest, plan_manifest, write_manifest
from ivif.pairing.manifest import cache_fingerprint, read_summary, read_table


def plan(name, ir_cache, vis_cache, policy, **kwargs):
    return plan_manifest(
        name,
        ir_cache,
        vis_cache,
        policy,
        ir_dataset=ir_cache.meta["dataset"],
        vis_dataset=vis_cache.meta["dataset"],
        split="train",
        **kwargs,
    )


def test_written_manifest_round_trips_and_describes_itself(tno_cache, tmp_path):
    manifest = plan("aptp", tno_cache, tno_cache, "APTP", seed=3)
    write_manifest(manifest, tmp_path / "aptp", progress=False)
    summary = read_summary(tmp_path / "aptp")
    assert summary["policy"] == "arbitrary" and summary["seed"] == 3 and summary["exhaustive"] is True
    assert summary["counts"] == {"ir": 12, "vis": 12, "combinations": 144, "pairs_per_epoch": 144}
    assert summary["sources"]["ir"]["content_hash"] == cache_fingerprint(tno_cache)
    assert summary["sources"]["ir"]["images"] == 12
    assert summary["ir_ids"] is None, "all images: no id list"

    table = read_table(tmp_path / "aptp", verify=True)
    assert table.dtype == np.uint16 and table.shape == (144, 2)
    assert summary["table"]["sha256"] == hashlib.sha256(np.ascontiguousarray(table).tobytes()).hexdigest()
    loaded = load_manifest(tmp_path / "aptp")
    assert np.array_equal(loaded.at(0, np.arange(144)), table)
    assert len({tuple(row) for row in table.tolist()}) == 144


def test_same_inputs_give_byte_identical_files(msrs_cache, tmp_path):
    for out in ("a", "b"):
        write_manifest(plan("uptp", msrs_cache, msrs_cache, "unpaired", samples=20, seed=1), tmp_path / out, progress=False)
    for name in ("manifest.json", "pairs.npy"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_subset_pairs_only_the_chosen_base_images(tno_cache, tmp_path):
    manifest = plan("sptp5", tno_cache, tno_cache, "strict", subset=5, seed=2)
    write_manifest(manifest, tmp_path / "m", progress=False)
    table = read_table(tmp_path / "m")
    assert len(table) == 5 and np.array_equal(table[:, 0], table[:, 1])
    assert set(table[:, 0].tolist()) == set(manifest.ir_ids.tolist())
    assert np.array_equal(manifest.ir_ids, plan("x", tno_cache, tno_cache, "strict", subset=5, seed=2).ir_ids)
    assert read_summary(tmp_path / "m")["ir_ids"] == manifest.ir_ids.tolist()
    assert np.array_equal(load_manifest(tmp_path / "m").ir_ids, manifest.ir_ids)


def test_cross_dataset_pairs_index_each_cache(m3fd_cache, msrs_cache, tmp_path):
    manifest = plan("m3fd_x_msrs", m3fd_cache, msrs_cache, "arbitrary")
    assert not manifest.same_source
    write_manifest(manifest, tmp_path / "x", progress=False)
    table = read_table(tmp_path / "x")
    assert table.shape == (6 * 8, 2)
    assert {tuple(r) for r in table.tolist()} == {(i, j) for i in range(6) for j in range(8)}
    summary = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert summary["sources"]["ir"]["dataset"] == "m3fd6" and summary["sources"]["vis"]["dataset"] == "msrs13"


def test_strict_across_datasets_and_oversized_requests_are_refused(m3fd_cache, msrs_cache):
    with pytest.raises(PairingError, match="needs IR and visible from the same cache"):
        plan("bad", m3fd_cache, msrs_cache, "strict")
    with pytest.raises(PairingError, match="subset 9 is larger than the 8 images"):
        plan("bad", msrs_cache, msrs_cache, "arbitrary", subset=9)
    with pytest.raises(PairingError, match="cannot draw 65 distinct"):
        plan("bad", msrs_cache, msrs_cache, "arbitrary", samples=65)


def test_manifest_refuses_a_different_cache(msrs_cache, tno_cache):
    manifest = plan("aptp", msrs_cache, msrs_cache, "arbitrary")
    with pytest.raises(PairingError, match="rebuild the manifest"):
        manifest.check_caches(tno_cache, msrs_cache)


class FailsAfterFirstChunk(PairManifest):
    """A manifest whose pair computation breaks mid-write (e.g. a crash or a full disk)."""

    def at(self, epoch, positions, pairs=None):
        if positions[0] > 0:
            raise OSError("disk full")
        return super().at(epoch, positions, pairs)


def test_failed_write_keeps_the_previous_manifest_whole(msrs_cache, tmp_path):
    good = plan("aptp", msrs_cache, msrs_cache, "arbitrary")
    write_manifest(good, tmp_path / "m", progress=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()}
    broken = FailsAfterFirstChunk(**{f.name: getattr(good, f.name) for f in dataclasses.fields(good)})
    with pytest.raises(OSError, match="disk full"):
        write_manifest(dataclasses.replace(broken, seed=1), tmp_path / "m", chunk_size=10, progress=False)
    assert {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["m"], "no temporary left behind"


def test_missing_manifest_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="ivif pairs make"):
        load_manifest(tmp_path / "nothing")
