"""Where a training run reads and writes (derived once by the entry point, passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivif.pairing.build import cache_dir
from ivif.pairing.manifest import load_manifest
from ivif.training.config import TrainConfig

CHECKPOINT_DIR = "checkpoints"
LAST_STATE = "last.pt"
MODEL_FILE = "model.pt"
REPORT_DIR = "report"  # held-out previews; always created, so it is one DVC out whatever evaluation wrote
MODELS_ROOT = "models"


def default_run_dir(train: TrainConfig) -> Path:
    """``models/<model>-<manifest>``: where the pipeline's run of ``train`` lives."""
    return Path(MODELS_ROOT) / train.run_name


@dataclass(frozen=True)
class RunPaths:
    """Inputs and outputs of one run.

    Attributes:
        manifest: pairing manifest directory (``<pairs.out_dir>/<train.manifest>``).
        ir_cache, vis_cache: the caches the manifest pairs.
        eval_cache: held-out cache evaluated during training; None skips evaluation.
        out_dir: run folder: ``model.pt`` (ivif checkpoint), ``checkpoints/last.pt``
            (full training state, kept across DVC reruns), ``report/loss.png`` and
            ``report/previews.png``.
        metrics: JSON with the final losses and held-out metrics (DVC metrics).
        plots: CSV loss curve (DVC plots).
    """

    manifest: Path
    ir_cache: Path
    vis_cache: Path
    eval_cache: Path | None
    out_dir: Path
    metrics: Path
    plots: Path

    @property
    def last_state(self) -> Path:
        return self.out_dir / CHECKPOINT_DIR / LAST_STATE

    @property
    def model_file(self) -> Path:
        return self.out_dir / MODEL_FILE

    @property
    def loss_png(self) -> Path:
        """The loss curve drawn from :attr:`plots` (same folder and stem, ``.png``)."""
        return self.plots.with_suffix(".png")

    @property
    def previews_png(self) -> Path:
        return self.out_dir / REPORT_DIR / "previews.png"

    @classmethod
    def for_run(
        cls,
        cache_root: str | Path,
        pairs_dir: str | Path,
        train: TrainConfig,
        out_dir: str | Path,
        metrics: str | Path | None = None,
        plots: str | Path | None = None,
        root: str | Path = ".",
    ) -> RunPaths:
        """Paths of a run on the manifest ``<pairs_dir>/<train.manifest>``.

        ``cache_root`` is ``data.cache_root`` and ``pairs_dir`` is ``pairs.out_dir``.
        Relative paths are resolved against ``root`` (the project). The held-out cache
        is ``<cache_root>/<IR dataset>/<train.eval_split>`` when it exists.
        """
        root = Path(root)
        cache_root = root / cache_root
        manifest_dir = root / pairs_dir / train.manifest
        manifest = load_manifest(manifest_dir)
        eval_cache = cache_dir(cache_root, manifest.ir.dataset, train.eval_split)
        out_dir = root / out_dir
        return cls(
            manifest=manifest_dir,
            ir_cache=cache_dir(cache_root, manifest.ir.dataset, manifest.ir.split),
            vis_cache=cache_dir(cache_root, manifest.vis.dataset, manifest.vis.split),
            eval_cache=eval_cache if (eval_cache / "meta.json").is_file() else None,
            out_dir=out_dir,
            metrics=root / metrics if metrics else out_dir / "metrics.json",
            plots=root / plots if plots else out_dir / "loss.csv",
        )
