"""Training: one engine for the CNN, Transformer and GAN under SPTP/UPTP/APTP.

- :mod:`ivif.training.config`: the ``train:`` section (frozen dataclasses).
- :mod:`ivif.training.engine`: :class:`Trainer`, the loop (AMP, DDP, resume, guard).
- :mod:`ivif.training.gan`: the discriminator's LSGAN updates.
- :mod:`ivif.training.checkpoint`: full-state checkpoints for exact resume.
- :mod:`ivif.training.tracking`: the MLflow callback (params, tags, metrics, artifacts,
  model registration).
"""

from ivif.training.config import GanConfig, TrainConfig
from ivif.training.engine import TrainResult, Trainer
from ivif.training.guard import NonFiniteLossError
from ivif.training.paths import RunPaths

__all__ = ["GanConfig", "NonFiniteLossError", "RunPaths", "TrainConfig", "TrainResult", "Trainer"]
