"""One index space over a run's epochs serves exactly the per-epoch samples."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from ivif.data.cache import ImageCache
from ivif.pairing import load_manifest
from ivif.pairing.loader import PairDataset
from ivif.training.samples import RunSamples


def _dataset(root):
    cache = ImageCache(root / "data" / "cache" / "tiny" / "train")
    return PairDataset(load_manifest(root / "data" / "pairs" / "uptp"), cache, cache, patch_size=16, seed=3)


def test_run_index_maps_onto_epochs_and_skips_each_epochs_tail(tiny_project):
    root = tiny_project.parent
    per_epoch = 10  # uptp on 4 images: 12 pairs per epoch, 2 left out as a partial batch
    samples = RunSamples(_dataset(root), per_epoch, start=7, stop=25)
    reference = _dataset(root)
    expected = []
    for run_index in range(7, 25):
        epoch, position = divmod(run_index, per_epoch)
        reference.set_epoch(epoch)
        expected.append(reference[position])
    got = samples.__getitems__(list(range(len(samples))))
    assert len(samples) == 18 and all(torch.equal(a, b) for a, b in zip(got, expected))


def test_workers_serve_the_same_batches(tiny_project):
    samples = RunSamples(_dataset(tiny_project.parent), 10, 0, 30)
    in_process = torch.cat(list(DataLoader(samples, batch_size=5)))
    with_workers = torch.cat(list(DataLoader(samples, batch_size=5, num_workers=2)))
    assert torch.equal(in_process, with_workers)


def test_invalid_ranges(tiny_project):
    dataset = _dataset(tiny_project.parent)
    with pytest.raises(ValueError, match="exceeds"):
        RunSamples(dataset, 13, 0, 10)
    with pytest.raises(ValueError, match="start <= stop"):
        RunSamples(dataset, 10, 5, 2)
