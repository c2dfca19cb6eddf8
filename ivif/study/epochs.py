"""Epochs of at least a given length, so every paradigm can train at the same batch size.

The engine needs an epoch of at least one batch, but SPTP on N=2 base pairs has an epoch
of 2 pairs, and the paper's protocol wants an APTP epoch of 100·N pairs even when N² is
smaller. :class:`RepeatedPairs` makes one training epoch out of ``repeats`` consecutive
manifest epochs (each reshuffled, with fresh crops and flips), so the pairs seen are the
manifest's pairs, just more often, and a batch may hold the same pair twice with
different crops. :class:`StudyTrainer` is the engine with that one change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ivif.pairing.loader import PairDataset
from ivif.training.engine import Trainer


class RepeatedPairs:
    """One epoch = ``repeats`` manifest epochs of ``inner`` (a single-process pair dataset).

    Exposes what :class:`ivif.training.samples.RunSamples` and the engine use:
    ``manifest``, ``epoch``, ``start_index``, ``share_size``, ``set_epoch``, ``__len__``, ``__getitems__``.
    """

    def __init__(self, inner: PairDataset, repeats: int):
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.inner, self.repeats = inner, int(repeats)
        self.epoch, self.start_index = 0, 0

    @property
    def manifest(self):
        """The inner dataset's :class:`~ivif.pairing.PairManifest` (the engine records its policy)."""
        return self.inner.manifest

    @property
    def share_size(self) -> int:
        return self.inner.share_size * self.repeats

    def __len__(self) -> int:
        return self.share_size - self.start_index

    def set_epoch(self, epoch: int, start_index: int = 0) -> None:
        if not 0 <= start_index <= self.share_size:
            raise ValueError(f"start_index must be in [0, {self.share_size}], got {start_index}")
        self.epoch, self.start_index = int(epoch), int(start_index)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: Sequence[int]) -> list[torch.Tensor]:
        positions = self.start_index + np.asarray(indices, dtype=np.int64)
        sub_epochs, within = np.divmod(positions, self.inner.share_size)
        out: list[torch.Tensor | None] = [None] * len(positions)
        for sub in np.unique(sub_epochs):
            rows = np.flatnonzero(sub_epochs == sub)
            self.inner.set_epoch(self.epoch * self.repeats + int(sub))
            for row, sample in zip(rows, self.inner.__getitems__(within[rows].tolist())):
                out[row] = sample
        return out  # type: ignore[return-value]


def repeats_for(epoch_pairs: int, min_epoch: int) -> int:
    """Manifest epochs per training epoch so that one holds at least ``min_epoch`` pairs."""
    return max(1, math.ceil(min_epoch / max(epoch_pairs, 1)))


class StudyTrainer(Trainer):
    """The engine, with epochs lengthened to at least ``min_epoch`` pairs (see module doc)."""

    def __init__(self, *args, min_epoch: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_epoch = max(int(min_epoch), self.config.batch_size)

    def _build_dataset(self):
        dataset = super()._build_dataset()
        repeats = repeats_for(len(dataset), self.min_epoch)
        return dataset if repeats == 1 else RepeatedPairs(dataset, repeats)
