"""Benchmark: training patches/s per model, ivif's engine vs the upstream way.

For each model (CNN, Transformer, GAN) at batch 8, 128×128 patches (defaults):

- ``ivif``: :class:`ivif.training.Trainer` itself — the pair loader over the decoded
  cache (APTP manifest), the paper's loss, AMP bf16 + channels_last on CUDA — timed
  between log points after a warm-up (setup and start-up excluded);
- ``upstream``: the same model, optimizer and loss driven the upstream way: each step
  opens the batch's IR and visible PNG files from disk with PIL in the main process,
  crops, stacks and copies them to the device, then steps in float32;
- ``data``: the ivif data path alone (DataLoader over the cache, batches moved to the
  device, no model), and ``model``: the ivif step alone on one device-resident batch.
  Whichever is slower bounds the engine: that is the bottleneck line.

Both training sides read the same images: the bench writes a cache of the PNG folder
into a temporary directory first. Mean losses of the timed steps are printed side by
side (the same loss function on different random crops: equal up to sampling noise).

Usage::

    .venv/bin/python bench/train_step.py [--images data/sample] [--models cnn transformer gan]
        [--batch 8] [--patch 128] [--steps 6] [--warmup 2] [--device auto] [--workers 0]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ivif.data.cache import ImageCache, write_cache
from ivif.fusion.device import resolve_device
from ivif.losses import fusion_loss
from ivif.models import create_discriminator, create_model
from ivif.pairing import plan_manifest, write_manifest
from ivif.pairing.patches import crop, to_unit_gray
from ivif.training import RunPaths, TrainConfig, Trainer
from ivif.training.gan import Adversary

DEFAULT_IMAGES = Path(__file__).resolve().parents[1] / "data" / "sample"
DATASET = "bench"
MANIFEST = "aptp"


# ------------------------------------------------------------------ fixtures
def png_pairs(images: Path) -> tuple[list[Path], list[Path]]:
    ir_files = sorted((images / "ir").iterdir())
    vi_files = [images / "vi" / f.name for f in ir_files]
    missing = [str(f) for f in vi_files if not f.is_file()]
    if not ir_files or missing:
        raise SystemExit(f"{images}: need ir/ and vi/ PNG pairs with matching names (missing {missing[:3]})")
    return ir_files, vi_files


def build_cache_and_manifest(ir_files: list[Path], vi_files: list[Path], root: Path) -> tuple[Path, Path]:
    """The PNG pairs as an ivif cache plus an APTP manifest over it."""
    records = (
        (f.stem, np.asarray(Image.open(f).convert("L")), np.asarray(Image.open(v).convert("RGB")))
        for f, v in zip(ir_files, vi_files)
    )
    cache_dir = write_cache(root / "cache" / DATASET / "train", records, {"dataset": DATASET})
    cache = ImageCache(cache_dir)
    manifest = plan_manifest(MANIFEST, cache, cache, "arbitrary", ir_dataset=DATASET, vis_dataset=DATASET, split="train")
    return cache_dir, write_manifest(manifest, root / "pairs" / MANIFEST, progress=False)


# ----------------------------------------------------------------- ivif side
class StepClock:
    """Engine callback: wall time at every logged step (log_every=1), plus the losses."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.losses: list[float] = []

    def on_log(self, step, metrics) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.times.append(time.perf_counter())
        self.losses.append(metrics["loss/total"])


def time_engine(config: TrainConfig, paths: RunPaths, warmup: int) -> tuple[float, float]:
    """Steps/s of the engine after ``warmup`` steps, and the mean loss of the timed steps."""
    clock = StepClock()
    Trainer(config, paths, callbacks=[clock], progress=False).fit()
    timed = clock.times[warmup - 1 :] if warmup else clock.times
    steps = len(timed) - 1
    return steps / (timed[-1] - timed[0]), float(np.mean(clock.losses[warmup:]))


def time_data_path(paths: RunPaths, config: TrainConfig, device: torch.device, batches: int) -> float:
    """Batches/s of the ivif data path alone (loader over the cache, copy to the device)."""
    from torch.utils.data import DataLoader

    from ivif.pairing import load_manifest
    from ivif.pairing.loader import PairDataset

    cache = ImageCache(paths.ir_cache)
    dataset = PairDataset(load_manifest(paths.manifest), cache, cache, patch_size=config.patch_size, seed=config.seed)
    served, epoch, start = 0, 0, None
    while served < batches:
        dataset.set_epoch(epoch)
        loader = DataLoader(dataset, batch_size=config.batch_size, drop_last=True, num_workers=config.num_workers, pin_memory=device.type == "cuda")
        for batch in loader:
            batch.to(device, non_blocking=True)
            served += 1
            if served == 1:  # first batch includes worker start-up
                _sync(device)
                start = time.perf_counter()
            if served >= batches:
                break
        epoch += 1
    _sync(device)
    return (served - 1) / (time.perf_counter() - start)


# ------------------------------------------------------------- upstream side
def upstream_batch(ir_files, vi_files, batch: int, patch: int, rng: random.Random) -> torch.Tensor:
    """Decode the batch's PNG files with PIL, random-crop, stack: (B, 2, P, P) in [0, 1]."""
    samples = []
    for _ in range(batch):
        i, j = rng.randrange(len(ir_files)), rng.randrange(len(vi_files))
        pair = []
        for path in (ir_files[i], vi_files[j]):
            image = np.asarray(Image.open(path).convert("L"))
            top = rng.randrange(max(image.shape[0] - patch, 0) + 1)
            left = rng.randrange(max(image.shape[1] - patch, 0) + 1)
            pair.append(to_unit_gray(crop(image, top, left, patch)))
        samples.append(np.stack(pair))
    return torch.from_numpy(np.stack(samples))


def time_upstream(model_name: str, config: TrainConfig, ir_files, vi_files, device, steps: int, warmup: int, fixed_batch: bool = False):
    """Steps/s of the upstream-style loop (or of the model step alone with ``fixed_batch``)."""
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    model = create_model(model_name).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    adversary = None
    if model_name == "gan":
        adversary = Adversary(create_discriminator(image_size=config.patch_size).to(device), config.gan.lr, config.gan.betas)
    resident = upstream_batch(ir_files, vi_files, config.batch_size, config.patch_size, rng).to(device)
    losses, start = [], None
    for step in range(warmup + steps):
        if step == warmup:
            _sync(device)
            start = time.perf_counter()
        batch = resident if fixed_batch else upstream_batch(ir_files, vi_files, config.batch_size, config.patch_size, rng).to(device)
        ir, vi = batch[:, :1], batch[:, 1:]
        fused = model(batch)
        if adversary is not None:
            adversary.discriminator_step(ir, vi, fused)
        loss = fusion_loss(fused, ir, vi, config.loss).total
        if adversary is not None:
            loss = loss + config.loss.adversarial * adversary.generator_loss(fused)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= warmup:
            losses.append(loss.item())
    _sync(device)
    return steps / (time.perf_counter() - start), float(np.mean(losses))


def time_model_alone(config: TrainConfig, paths: RunPaths, steps: int, warmup: int) -> float:
    """Steps/s of the ivif step (AMP, channels_last on CUDA) on one device-resident batch."""
    trainer = Trainer(config, paths, progress=False)
    trainer.setup()
    device = trainer.device
    batch = next(iter(trainer.run_batches())).to(device)
    start = None
    for step in range(warmup + steps):
        if step == warmup:
            _sync(device)
            start = time.perf_counter()
        trainer.train_step(batch)
    _sync(device)
    return steps / (time.perf_counter() - start)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES, help="folder with ir/ and vi/ PNG pairs")
    parser.add_argument("--models", nargs="+", default=["cnn", "transformer", "gan"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers of the ivif side")
    parser.add_argument("--skip-upstream", action="store_true", help="only the ivif figures (GPU check)")
    args = parser.parse_args()

    device = resolve_device(args.device)
    ir_files, vi_files = png_pairs(args.images)
    print(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else f'{torch.get_num_threads()} threads'}), "
          f"batch {args.batch}, patch {args.patch}, {len(ir_files)} PNG pairs from {args.images}, {args.workers} loader workers")
    header = f"{'model':<12}{'path':<10}{'steps/s':>9}{'patches/s':>11}{'mean loss':>11}"
    with tempfile.TemporaryDirectory(prefix="ivif-bench-") as tmp:
        cache_dir, manifest_dir = build_cache_and_manifest(ir_files, vi_files, Path(tmp))
        print(header)
        for model_name in args.models:
            config = TrainConfig(
                model=model_name, paradigm="aptp", batch_size=args.batch, patch_size=args.patch, device=args.device,
                max_steps=args.warmup + args.steps + 1, schedule="constant", log_every=1, ckpt_every=10**9,
                eval_images=0, num_workers=args.workers,
            )
            paths = RunPaths(manifest_dir, cache_dir, cache_dir, None, Path(tmp) / "out" / model_name,
                             Path(tmp) / "out" / model_name / "metrics.json", Path(tmp) / "out" / model_name / "loss.csv")
            rows = []
            rate, loss = time_engine(config, paths, args.warmup)
            rows.append(("ivif", rate, loss))
            if not args.skip_upstream:
                rate_up, loss_up = time_upstream(model_name, config, ir_files, vi_files, device, args.steps, args.warmup)
                rows.append(("upstream", rate_up, loss_up))
            data_rate = time_data_path(paths, config, device, batches=args.steps * 4 + 1)
            model_rate = time_model_alone(replace(config, max_steps=None), paths, args.steps, args.warmup)
            rows += [("data", data_rate, float("nan")), ("model", model_rate, float("nan"))]
            for path, steps_per_s, mean_loss in rows:
                print(f"{model_name:<12}{path:<10}{steps_per_s:>9.3f}{steps_per_s * args.batch:>11.1f}{mean_loss:>11.4f}")
            if not args.skip_upstream:
                print(f"{model_name:<12}speed-up ivif/upstream: {rate / rate_up:.2f}x")
            bottleneck = "data path" if data_rate < model_rate else "model"
            print(f"{model_name:<12}bottleneck: {bottleneck} (data {data_rate * args.batch:.0f} vs model {model_rate * args.batch:.0f} patches/s)")


if __name__ == "__main__":
    main()
