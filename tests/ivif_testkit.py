"""Shared helpers of the registry and flows tests (importable: tests/ is on sys.path).

- MLflow stores: creating a sqlite store runs MLflow's schema migrations (~10 s on two
  cores), so one empty store per session is made once and copied for each test.
- A tiny held-out cache of cropped sample pairs.
- Fusion models with known behaviour, built on the real CNN architecture:
  ``contrast_fusion(gain, offset)`` outputs tanh(gain * (ir + vi) / 2 + offset). The CNN
  head sees the raw input, so zeroing every other path leaves an exact, contrast-scaled
  average fusion; a larger gain gives strictly more contrast (SD, SF, AG, EN), which
  lets gate tests know which candidate is better without training anything.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import numpy as np
import torch

SMALL_CNN = {"stem_width": 4, "growth": (2, 2, 4, 4), "head_width": 4}
STRONG = {"gain": 1.5, "offset": 0.0}
WEAK = {"gain": 0.2, "offset": 0.5}
CONTRAST_METRICS = ("EN", "SD", "SF", "AG")
EVAL_IMAGES = 3
EVAL_CROP = (52, 70)  # H, W: small and not a multiple of 4
TEMPLATE_DIR = "mlflow-template"
TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = TESTS_DIR.parent
FLOWS_TESTS = TESTS_DIR / "flows"
SCRIPTED_TRAINER = "scripted=scripted_trainer:train"  # tests/flows/scripted_trainer.py


MLFLOW_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    """Environment of a child process that imports these helpers and the scripted trainer.

    A stray MLFLOW_TRACKING_URI (MLflow exports it whenever someone calls
    ``mlflow.set_tracking_uri``) is dropped so the child uses its params' store.
    """
    python_path = os.pathsep.join([str(FLOWS_TESTS), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])
    inherited = {k: v for k, v in os.environ.items() if k not in MLFLOW_URI_VARIABLES}
    return {**inherited, "PYTHONPATH": python_path, "IVIF_RETRAIN_TRAINERS": SCRIPTED_TRAINER, **extra}


def template_store(tmp_path_factory) -> Path:
    """Path of an initialised, empty MLflow sqlite database (copy it, never write to it)."""
    import mlflow

    path = tmp_path_factory.getbasetemp() / TEMPLATE_DIR / "mlflow.db"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{path}"
        mlflow.MlflowClient(uri, registry_uri=uri).search_experiments()  # creates the schema
    return path


def fresh_store(template: Path, folder: Path, experiment: str = "ivif-tests") -> str:
    """Copy the empty store to ``folder/mlflow.db``, point MLflow at it; return its URI.

    Any MLFLOW_TRACKING_URI in the environment is ignored: tests never touch a real store.
    """
    from ivif.tracking import TrackingConfig, configure_tracking

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, folder / "mlflow.db")
    config = TrackingConfig(store="sqlite:///mlflow.db", experiment=experiment)
    return configure_tracking(config, base_dir=folder, environ={})


@contextlib.contextmanager
def mlflow_uris_restored():
    """Put MLflow's process-wide tracking/registry URIs back after the block."""
    import mlflow

    from ivif.tracking.store import use_store

    previous = mlflow.get_tracking_uri()
    try:
        yield
    finally:
        use_store(previous)


def write_eval_cache(sample_dir: Path, dest: Path):
    """A held-out cache of the first few sample pairs, cropped small."""
    from PIL import Image

    from ivif.data.cache import ImageCache, write_cache

    names = sorted(p.stem for p in (sample_dir / "ir").glob("*.png"))[:EVAL_IMAGES]
    height, width = EVAL_CROP

    def records():
        for name in names:
            ir = np.asarray(Image.open(sample_dir / "ir" / f"{name}.png").convert("L"))[:height, :width]
            vi = np.asarray(Image.open(sample_dir / "vi" / f"{name}.png").convert("L"))[:height, :width]
            yield name, ir, vi

    return ImageCache(write_cache(dest, records(), {"dataset": "sample", "split": "test"}))


@torch.no_grad()
def contrast_fusion(gain: float, offset: float, seed: int = 0):
    from ivif.models import create_model

    torch.manual_seed(seed)
    model = create_model("cnn", **SMALL_CNN).eval()
    mix, _, project, _ = model.head
    mix.weight.zero_()
    mix.bias.zero_()
    ir_channel, vi_channel = mix.in_channels - 2, mix.in_channels - 1  # the raw input comes last
    centre = mix.kernel_size[0] // 2
    mix.weight[0, ir_channel, centre, centre] = 0.5
    mix.weight[0, vi_channel, centre, centre] = 0.5
    project.weight.zero_()
    project.weight[0, 0] = gain
    project.bias.fill_(offset)
    return model


def flat_png(width: int, height: int, value: int = 0) -> bytes:
    """A valid 8-bit gray PNG of one value, built row by row: a 30000 x 30000 image is
    ~0.9 MB of bytes without ever holding its pixels (the decompression-bomb shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows_per_block = 64
    block = (bytes([0]) + bytes([value]) * width) * rows_per_block  # filter byte 0, then the samples
    packer = zlib.compressobj(1)
    parts = [packer.compress(block) for _ in range(height // rows_per_block)]
    parts.append(packer.compress(block[: (height % rows_per_block) * (width + 1)]))
    body = b"".join(parts) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
