"""Training: one engine for the CNN, Transformer and GAN under SPTP/UPTP/APTP.

- :mod:`ivif.training.config`: the ``train:`` section (frozen dataclasses).
- :mod:`ivif.training.run`: ``train_from_params``, behind ``ivif train`` and ``flows/train.py``.
- :mod:`ivif.training.engine`: :class:`Trainer`, the loop (AMP, DDP, resume, guard, eval).
- :mod:`ivif.training.samples`: every epoch's samples as one index space (one DataLoader per run).
- :mod:`ivif.training.gan`: the discriminator's LSGAN updates.
- :mod:`ivif.training.checkpoint`: full-state checkpoints for exact resume.
- :mod:`ivif.training.guard`: the NaN/Inf guard.
- :mod:`ivif.training.schedule`, :mod:`~ivif.training.history`, :mod:`~ivif.training.evaluation`,
  :mod:`~ivif.training.distributed`, :mod:`~ivif.training.paths`: LR schedule, loss curve,
  held-out evaluation, torchrun setup, run paths.
- :mod:`ivif.training.tracking`: the MLflow callback (params, tags, metrics, artifacts,
  model registration).
"""

from ivif.training.config import GanConfig, TrainConfig
from ivif.training.engine import Trainer, TrainResult
from ivif.training.guard import NonFiniteLossError
from ivif.training.paths import RunPaths

__all__ = ["GanConfig", "NonFiniteLossError", "RunPaths", "TrainConfig", "TrainResult", "Trainer"]
