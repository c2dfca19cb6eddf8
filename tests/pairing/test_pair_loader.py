"""The pair loader (ivif.pairing.loader.PairDataset) on real caches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from ivif.color import rgb_to_y
from ivif.pairing import plan_manifest
from ivif.pairing.loader import PairDataset
from ivif.pairing.patches import pad_to_min_size

PATCH = 64


def manifest_for(cache, policy, **kwargs):
    return plan_manifest("m", cache, cache, policy, ir_dataset="d", vis_dataset="d", split="train", **kwargs)


def expected_sample(cache, pair, window, size):
    """A sample computed the slow, obvious way from the cache."""
    ir_id, vis_id = pair
    ir_top, ir_left, vis_top, vis_left, flip_h, flip_v = window
    ir = pad_to_min_size(cache.ir(ir_id), size)[ir_top : ir_top + size, ir_left : ir_left + size] / 255.0
    vis = rgb_to_y(pad_to_min_size(cache.vi(vis_id), size)[vis_top : vis_top + size, vis_left : vis_left + size]) / 255.0
    sample = np.stack([ir, vis])
    if flip_h:
        sample = sample[:, :, ::-1]
    if flip_v:
        sample = sample[:, ::-1, :]
    return sample


def test_samples_are_two_channel_unit_float_patches_of_the_right_pixels(msrs_cache):
    data = PairDataset(manifest_for(msrs_cache, "arbitrary", samples=12), msrs_cache, msrs_cache, patch_size=PATCH)
    assert len(data) == 12
    pairs, windows = data.layout(range(12))
    for index in range(12):
        sample = data[index]
        assert sample.shape == (2, PATCH, PATCH) and sample.dtype == torch.float32
        assert 0.0 <= sample.min() and sample.max() <= 1.0
        np.testing.assert_allclose(sample.numpy(), expected_sample(msrs_cache, pairs[index], windows[index], PATCH), atol=1e-6)


def test_strict_pairs_share_one_window_unpaired_ones_do_not(msrs_cache):
    strict = PairDataset(manifest_for(msrs_cache, "strict"), msrs_cache, msrs_cache, patch_size=PATCH)
    pairs, windows = strict.layout(range(len(strict)))
    assert np.array_equal(pairs[:, 0], pairs[:, 1])
    assert np.array_equal(windows[:, 0:2], windows[:, 2:4])
    unpaired = PairDataset(manifest_for(msrs_cache, "unpaired"), msrs_cache, msrs_cache, patch_size=PATCH)
    _, windows = unpaired.layout(range(len(unpaired)))
    assert np.mean(np.all(windows[:, 0:2] == windows[:, 2:4], axis=1)) < 0.1


def test_flips_mirror_the_unflipped_sample(msrs_cache):
    manifest = manifest_for(msrs_cache, "arbitrary")
    flipped = PairDataset(manifest, msrs_cache, msrs_cache, patch_size=PATCH, flips=True)
    plain = PairDataset(manifest, msrs_cache, msrs_cache, patch_size=PATCH, flips=False)
    _, windows = flipped.layout(range(len(flipped)))
    assert 0.3 < windows[:, 4].mean() < 0.7 and 0.3 < windows[:, 5].mean() < 0.7
    assert not plain.layout(range(len(plain)))[1][:, 4:].any()
    for index in np.flatnonzero(windows[:, 4] & windows[:, 5])[:3]:
        assert torch.equal(flipped[index], plain[index].flip(-1).flip(-2))


def test_same_seed_same_samples_new_epoch_new_samples(msrs_cache):
    manifest = manifest_for(msrs_cache, "unpaired")
    first = PairDataset(manifest, msrs_cache, msrs_cache, patch_size=PATCH)
    again = PairDataset(manifest, msrs_cache, msrs_cache, patch_size=PATCH)
    assert all(torch.equal(first[i], again[i]) for i in range(5))
    again.set_epoch(1)
    assert not torch.equal(torch.stack([first[i] for i in range(5)]), torch.stack([again[i] for i in range(5)]))
    other_seed = PairDataset(manifest, msrs_cache, msrs_cache, patch_size=PATCH, seed=99)
    assert not np.array_equal(first.layout(range(20))[1], other_seed.layout(range(20))[1])


@pytest.mark.parametrize("world_size", [2, 3, 5])
def test_ddp_shares_are_disjoint_and_cover_the_epoch(msrs_cache, world_size):
    manifest = manifest_for(msrs_cache, "unpaired")  # 8 * 7 = 56 pairs
    shares = [PairDataset(manifest, msrs_cache, msrs_cache, patch_size=PATCH, rank=r, world_size=world_size) for r in range(world_size)]
    assert len({len(s) for s in shares}) == 1, "equal lengths so no rank waits at the end"
    positions = [s.positions(range(len(s))) for s in shares]
    covered = np.concatenate(positions)
    assert set(covered.tolist()) == set(range(56))
    assert len(covered) - 56 < world_size, "only the padding of the last step repeats"
    dropped = [PairDataset(manifest, msrs_cache, msrs_cache, rank=r, world_size=world_size, drop_last=True) for r in range(world_size)]
    flat = np.concatenate([d.positions(range(len(d))) for d in dropped])
    assert len(flat) == len(set(flat.tolist())) == 56 // world_size * world_size


def test_workers_serve_exactly_what_the_main_process_would(msrs_cache):
    data = PairDataset(manifest_for(msrs_cache, "arbitrary", samples=40), msrs_cache, msrs_cache, patch_size=PATCH)
    data.set_epoch(3)
    serial = torch.cat(list(DataLoader(data, batch_size=6, num_workers=0)))
    parallel = torch.cat(list(DataLoader(data, batch_size=6, num_workers=2)))
    assert serial.shape == (40, 2, PATCH, PATCH)
    assert torch.equal(serial, parallel)
    assert torch.equal(serial, torch.cat(list(DataLoader(data, batch_size=16))))


def test_resume_mid_epoch_serves_the_rest_exactly(msrs_cache):
    manifest = manifest_for(msrs_cache, "arbitrary")
    full = PairDataset(manifest, msrs_cache, msrs_cache, patch_size=PATCH, epoch=2, rank=1, world_size=2)
    whole = torch.cat(list(DataLoader(full, batch_size=8)))
    resumed = PairDataset(manifest, msrs_cache, msrs_cache, patch_size=PATCH, epoch=2, rank=1, world_size=2, start_index=13)
    assert len(resumed) == len(full) - 13
    assert torch.equal(torch.cat(list(DataLoader(resumed, batch_size=8))), whole[13:])
    with pytest.raises(ValueError, match="start_index must be in"):
        full.set_epoch(0, start_index=len(full) + 1)


def test_images_smaller_than_the_patch_are_reflect_padded(tno_cache):
    small = next(i for i in range(len(tno_cache)) if tno_cache.shape("ir", i)[:2] == (280, 280))
    data = PairDataset(manifest_for(tno_cache, "strict"), tno_cache, tno_cache, patch_size=300, flips=False)
    pairs, windows = data.layout(range(len(data)))
    row = int(np.flatnonzero(pairs[:, 0] == small)[0])
    assert windows[row, :4].tolist() == [0, 0, 0, 0], "one possible window: the whole padded image"
    sample, ir = data[row][0].numpy(), tno_cache.ir(small) / np.float32(255)
    np.testing.assert_allclose(sample[:280, :280], ir, atol=1e-6)
    # reflection mirrors about the last row/column without repeating it
    np.testing.assert_allclose(sample[280:, :280], ir[278:258:-1], atol=1e-6)
    np.testing.assert_allclose(sample[:280, 280:], ir[:, 278:258:-1], atol=1e-6)


def test_padding_tiny_images_takes_several_reflections():
    tiny = np.arange(3, dtype=np.uint8).reshape(1, 3)
    padded = pad_to_min_size(tiny, 8)
    assert padded.shape == (8, 8)
    assert padded[0].tolist() == [0, 1, 2, 1, 0, 1, 2, 1]


def test_wrong_cache_is_refused(msrs_cache, tno_cache):
    with pytest.raises(ValueError, match="rebuild the manifest"):
        PairDataset(manifest_for(msrs_cache, "strict"), tno_cache, tno_cache)
