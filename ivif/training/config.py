"""The ``train:`` section of ``params.yaml`` as frozen, validated dataclasses.

Example::

    train:
      model: cnn                 # cnn | transformer | gan  (ivif.models registry)
      manifest: aptp             # any name of pairs.manifests: reads <pairs.out_dir>/<manifest>/
      epochs: 2
      batch_size: 8
      patch_size: 128
      lr: 1.0e-4
      loss: {alpha: 1.0, beta: 0.2, adversarial: 0.01}

The manifest's policy (read from the manifest itself) is the paradigm. Paths are not here: the entry point derives them from ``pairs:`` (manifests and
caches) and from its ``--out`` argument, and passes them to :class:`ivif.training.engine.Trainer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivif.losses.config import LossConfig
from ivif.models.registry import is_model, list_models

SCHEDULES = ("constant", "cosine")
DEVICES = ("auto", "cpu", "cuda")
GAN_MODEL = "gan"
GAN_PATCH_MULTIPLE = 16  # the discriminator's four stride-2 stem convolutions


@dataclass(frozen=True)
class GanConfig:
    """The discriminator of the GAN baseline (see :mod:`ivif.training.gan`).

    Its input size is ``train.patch_size`` (``ivif.models.create_discriminator``).
    """

    lr: float = 1.0e-4
    """Adam learning rate of the discriminator."""
    betas: tuple[float, float] = (0.5, 0.999)
    """Adam betas of the discriminator (β1 = 0.5, the usual choice for GANs)."""

    def __post_init__(self) -> None:
        if self.lr <= 0:
            raise ValueError(f"gan.lr must be > 0, got {self.lr}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"gan.betas must be two numbers in [0, 1), got {self.betas}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run computes (and how fast)."""

    model: str = "cnn"
    """Registry name of the fusion model: ``cnn``, ``transformer`` or ``gan``."""
    manifest: str = "aptp"
    """Name of the pairing manifest (an entry of ``pairs.manifests``); its policy is the
    paradigm (strict = SPTP, unpaired = UPTP, arbitrary = APTP)."""
    epochs: int = 1
    """Passes over the manifest (each epoch reshuffles; sampled manifests redraw)."""
    max_steps: int | None = None
    """Stop after this many optimizer steps in total (caps ``epochs``); null = no cap."""
    batch_size: int = 8
    """Pairs per step (per process under DDP)."""
    patch_size: int = 128
    """Square crop side in pixels; a multiple of 4, >= 11 (SSIM window); 128 for the GAN."""
    lr: float = 1.0e-4
    """Peak Adam learning rate of the fusion model."""
    weight_decay: float = 0.0
    """AdamW weight decay (0 = plain Adam)."""
    schedule: str = "cosine"
    """``constant`` or ``cosine`` (decay to ``min_lr_ratio``·lr at the last step)."""
    warmup_steps: int = 0
    """Linear warm-up from 0 over this many steps."""
    min_lr_ratio: float = 0.0
    """Final learning rate of the cosine schedule, as a fraction of ``lr``."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this value; 0 disables clipping."""
    amp: bool = True
    """bf16 autocast on CUDA (ignored on CPU, where it is slower)."""
    channels_last: bool = True
    """channels_last memory format for the model and batches (faster on CUDA and on CPU)."""
    compile: bool = False
    """``torch.compile`` the model (worth it for long GPU runs)."""
    num_workers: int = 0
    """DataLoader worker processes (0 = load in the main process)."""
    seed: int = 0
    """Seeds model initialisation, crops and flips; the manifest has its own seed."""
    device: str = "auto"
    """``auto`` (CUDA if available), ``cpu`` or ``cuda``."""
    log_every: int = 10
    """Log losses (progress bar, MLflow, loss curve) every this many steps."""
    eval_every: int = 0
    """Evaluate on the held-out split every this many steps; 0 = only at the end."""
    eval_split: str = "test"
    """Cache split of the evaluation images (``<cache_root>/<dataset>/<split>``)."""
    eval_images: int = 4
    """Evaluate on the first this many held-out images (fused whole, any size); 0 = never."""
    ckpt_every: int = 100
    """Write the full training state every this many steps (and at the end)."""
    loss: LossConfig = field(default_factory=LossConfig)
    gan: GanConfig = field(default_factory=GanConfig)

    def __post_init__(self) -> None:
        if not self.manifest or not str(self.manifest).replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"train.manifest must name an entry of pairs.manifests, got {self.manifest!r}")
        if not is_model(self.model):
            raise ValueError(f"train.model: {self.model!r} is not a registered model; choose one of {list_models()}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"train.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.device not in DEVICES:
            raise ValueError(f"train.device must be one of {DEVICES}, got {self.device!r}")
        _require_positive(self, "epochs", "batch_size", "lr", "log_every", "ckpt_every")
        _require_non_negative(self, "weight_decay", "warmup_steps", "grad_clip", "num_workers", "seed", "eval_every", "eval_images")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"train.max_steps must be >= 1 or null, got {self.max_steps}")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(f"train.min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        if self.patch_size % 4 or self.patch_size < 12:
            raise ValueError(f"train.patch_size must be a multiple of 4 and >= 12 (SSIM window 11), got {self.patch_size}")
        if self.is_gan and self.patch_size % GAN_PATCH_MULTIPLE:
            raise ValueError(
                f"train.patch_size must be a multiple of {GAN_PATCH_MULTIPLE} for the GAN (its discriminator "
                f"halves the patch four times), got {self.patch_size}"
            )

    @property
    def is_gan(self) -> bool:
        return self.model == GAN_MODEL

    @property
    def run_name(self) -> str:
        """``<model>-<manifest>`` (:func:`run_name`)."""
        return run_name(self.model, self.manifest)


def run_name(model: str, manifest: str) -> str:
    """``<model>-<manifest>``, e.g. ``cnn-aptp``: names the run folder ``models/<run name>/``
    and the registered model ``ivif-<run name>`` (:func:`ivif.registry.aliases.registered_name`)."""
    return f"{model}-{manifest}"


def _require_number(config: TrainConfig, name: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"train.{name} must be a number, got {value!r}; YAML reads 1e-4 or 1.0e30 as text, write 1.0e-4 or 1.0e+30")


def _require_positive(config: TrainConfig, *names: str) -> None:
    for name in names:
        _require_number(config, name)
        if getattr(config, name) <= 0:
            raise ValueError(f"train.{name} must be > 0, got {getattr(config, name)}")


def _require_non_negative(config: TrainConfig, *names: str) -> None:
    for name in names:
        _require_number(config, name)
        if getattr(config, name) < 0:
            raise ValueError(f"train.{name} must be >= 0, got {getattr(config, name)}")
