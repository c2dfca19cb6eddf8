"""All the samples of a run as one index space, so one DataLoader serves every epoch.

A fresh DataLoader per epoch restarts its worker processes at every epoch boundary; on a
GPU with short epochs (small datasets, big batches) that restart stalls the model. Here
sample ``g`` of the run (counted from its first step) is sample ``g % per_epoch`` of
epoch ``g // per_epoch`` of this rank's share of the manifest, where ``per_epoch`` is
steps-per-epoch × batch (an epoch's tail that does not fill a batch is skipped, like
``drop_last``). Each worker switches its own copy of the pair dataset to the epoch it
is asked for; samples depend only on (seed, epoch, position), so the batches are the
ones a per-epoch loop would produce, and a resumed run starts at ``g = step × batch``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ivif.pairing.loader import PairDataset


class RunSamples(Dataset):
    """Samples ``start .. stop-1`` of a run over ``dataset`` (see module docstring).

    Args:
        dataset: this rank's pair dataset (its epoch is switched as needed).
        per_epoch: samples used per epoch (steps per epoch × batch size).
        start, stop: run-level sample range (``step × batch`` at resume, ``total_steps × batch``).
    """

    def __init__(self, dataset: PairDataset, per_epoch: int, start: int, stop: int):
        if per_epoch < 1 or not 0 <= start <= stop:
            raise ValueError(f"need per_epoch >= 1 and 0 <= start <= stop, got {per_epoch}, {start}, {stop}")
        if per_epoch > dataset.share_size:
            raise ValueError(f"per_epoch={per_epoch} exceeds the {dataset.share_size} samples of an epoch's share")
        self.dataset, self.per_epoch, self.start, self.stop = dataset, per_epoch, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: Sequence[int]) -> list[torch.Tensor]:
        run_index = self.start + np.asarray(indices, dtype=np.int64)
        epochs, positions = np.divmod(run_index, self.per_epoch)
        samples: list[torch.Tensor] = []
        for epoch in np.unique(epochs):  # a batch straddles at most an epoch boundary
            if self.dataset.epoch != epoch or self.dataset.start_index:
                self.dataset.set_epoch(int(epoch))
            samples += self.dataset.__getitems__(positions[epochs == epoch].tolist())
        return samples
