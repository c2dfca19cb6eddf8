"""A tiny, real training project in tmp_path: caches, manifests for the three paradigms, params."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from ivif.data.cache import ImageCache, write_cache
from ivif.pairing.manifest import plan_manifest, write_manifest
from ivif.pairing.policies import Policy, paradigm_name

TRAIN_IMAGES = 4
TEST_IMAGES = 2
DATASET = "tiny"


def _scene(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth visible scene with texture and an IR image with warm blobs (uint8)."""
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    phase = rng.uniform(0, 2 * np.pi, size=2)
    vi = 0.5 + 0.25 * np.sin(8 * xx + phase[0]) * np.cos(6 * yy + phase[1]) + 0.1 * rng.standard_normal((height, width))
    ir = 0.2 + 0.05 * rng.standard_normal((height, width))
    for _ in range(2):
        cy, cx = rng.uniform(0.2, 0.8, size=2)
        ir += 0.7 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.01)
    to_u8 = lambda a: np.clip(np.round(a * 255), 0, 255).astype(np.uint8)  # noqa: E731
    return to_u8(ir), to_u8(vi)


def build_tiny_project(root: Path) -> Path:
    """Write caches, manifests sptp/uptp/aptp and params.yaml under ``root``; return params path."""
    rng = np.random.default_rng(0)
    cache_root = root / "data" / "cache"
    for split, count, (height, width) in (("train", TRAIN_IMAGES, (40, 48)), ("test", TEST_IMAGES, (62, 77))):
        records = [(f"{split}{i}", *_scene(rng, height, width)) for i in range(count)]
        write_cache(cache_root / DATASET / split, records, {"dataset": DATASET, "split": split})
    cache = ImageCache(cache_root / DATASET / "train")
    for policy in Policy:
        paradigm = paradigm_name(policy).lower()  # manifests named sptp, uptp, aptp
        manifest = plan_manifest(paradigm, cache, cache, policy, ir_dataset=DATASET, vis_dataset=DATASET, split="train")
        write_manifest(manifest, root / "data" / "pairs" / paradigm, progress=False)
    params = {
        "data": {"cache_root": "data/cache"},
        "pairs": {"out_dir": "data/pairs"},
        "train": {
            "model": "cnn",
            "manifest": "aptp",
            "epochs": 1,
            "max_steps": 8,
            "batch_size": 2,
            "patch_size": 16,
            "lr": 3.0e-3,
            "warmup_steps": 0,
            "log_every": 4,
            "ckpt_every": 4,
            "eval_images": 0,  # the tests that check evaluation turn it on
            "device": "cpu",
        },
        "tracking": {"store": "sqlite:///mlflow.db", "experiment": "ivif-test"},
    }
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


@pytest.fixture
def tiny_project(tmp_path: Path) -> Path:
    """Path of params.yaml of a fresh tiny project (caches, manifests) in tmp_path."""
    return build_tiny_project(tmp_path)


@pytest.fixture(autouse=True)
def single_thread():
    """Training tests run tiny tensors on one thread: at 16×16 the fan-out to two threads
    costs more than it saves, and with other test processes competing for the two cores
    spinning OpenMP workers slow each step by an order of magnitude."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
