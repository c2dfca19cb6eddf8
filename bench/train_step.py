"""Benchmark: training patches/s per model, ivif's engine vs the upstream way.

For each model (CNN, Transformer, GAN) at batch 8, 128×128 patches (defaults):

- ``ivif``: :class:`ivif.training.Trainer` itself — next batch of its run loader (the
  pair loader over the decoded cache, APTP manifest) plus :meth:`Trainer.train_step`
  (the paper's loss, NaN guard, clipping; AMP bf16 + channels_last on CUDA);
- ``upstream``: the same model, optimizer and loss driven the upstream way: each step
  opens the batch's IR and visible PNG files from disk with PIL in the main process,
  crops, stacks and copies them to the device, then steps in float32 with the model and
  loss computed the way the paper's code does (``bench/upstream_style.py``: the channel
  gate an explicit multiply, each SSIM term filtering its own moments by convolution);
- ``data``: the ivif data path alone (DataLoader over the cache, batches moved to the
  device, no model), and ``model``: the ivif step alone on one device-resident batch.
  Whichever is slower bounds the engine: that is the bottleneck line.

Both training sides read the same images: the bench writes a cache of the PNG folder
into a temporary directory first. ivif and upstream steps alternate, and each figure is
a median, so other jobs on a shared machine distort both sides alike. Mean losses of
the timed steps are printed side by side (the same loss function on different random
crops: equal up to sampling noise).

Usage::

    .venv/bin/python bench/train_step.py [--images data/sample] [--models cnn transformer gan]
        [--batch 8] [--patch 128] [--steps 6] [--warmup 2] [--device auto] [--workers 0] [--compile]
"""

from __future__ import annotations

import argparse
import copy
import math
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ivif.allocator import freed_memory_retained
from ivif.data.cache import ImageCache, write_cache
from ivif.fusion.device import resolve_device
from ivif.losses import fusion_loss
from ivif.models import create_discriminator, create_model
from ivif.pairing import plan_manifest, write_manifest
from ivif.pairing.patches import crop, to_unit_gray
from ivif.training import RunPaths, TrainConfig, Trainer
from ivif.training.gan import Adversary

sys.path.insert(0, str(Path(__file__).resolve().parent))
import upstream_style  # noqa: E402

DEFAULT_IMAGES = Path(__file__).resolve().parents[1] / "data" / "sample"
DATASET = "bench"
MANIFEST = "aptp"
RUN_EPOCHS = 10**4  # enough epochs that the run never ends inside the bench
DATA_BATCHES_PER_STEP = 4  # the data path is fast: time more batches of it


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
        (f.stem, np.asarray(Image.open(f).convert("L")), np.asarray(Image.open(v).convert("RGB"))) for f, v in zip(ir_files, vi_files)
    )
    cache_dir = write_cache(root / "cache" / DATASET / "train", records, {"dataset": DATASET})
    cache = ImageCache(cache_dir)
    manifest = plan_manifest(MANIFEST, cache, cache, "arbitrary", ir_dataset=DATASET, vis_dataset=DATASET, split="train")
    return cache_dir, write_manifest(manifest, root / "pairs" / MANIFEST, progress=False)


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


class UpstreamLoop:
    """The same model, optimizer and loss, fed the upstream way, in float32."""

    def __init__(self, model_name: str, config: TrainConfig, ir_files, vi_files, device: torch.device):
        torch.manual_seed(config.seed)
        self.config, self.ir_files, self.vi_files, self.device = config, ir_files, vi_files, device
        self.rng = random.Random(config.seed)
        self.model = upstream_style.upstream_model(create_model(model_name), device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.adversary = None
        if model_name == "gan":
            self.adversary = Adversary(create_discriminator(image_size=config.patch_size).to(device), config.gan.lr, config.gan.betas)

    def step(self) -> float:
        batch = upstream_batch(self.ir_files, self.vi_files, self.config.batch_size, self.config.patch_size, self.rng).to(self.device)
        ir, vi = batch[:, :1], batch[:, 1:]
        fused = self.model(batch)
        if self.adversary is not None:
            self.adversary.discriminator_step(ir, vi, fused)
        loss = upstream_style.fusion_loss(fused, ir, vi, self.config.loss).total
        if self.adversary is not None:
            loss = loss + self.config.loss.adversarial * self.adversary.generator_loss(fused)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def _upstream_worker(connection, model_name: str, config: TrainConfig, ir_files, vi_files, device: str, threads: int) -> None:
    """Child process: one timed upstream step per request, until told to stop."""
    torch.set_num_threads(threads)
    loop = UpstreamLoop(model_name, config, ir_files, vi_files, torch.device(device))
    while connection.recv():
        connection.send(timed(loop.device, loop.step))
    connection.close()


class UpstreamProcess:
    """:class:`UpstreamLoop` in a process of its own, stepped in lockstep with the parent.

    The upstream script runs in its own process, with the C library's default memory
    behaviour; ivif's engine retains freed memory for the whole run
    (:mod:`ivif.allocator`), a process-wide setting. A separate process keeps each side
    as it really runs while the steps still alternate.
    """

    def __init__(self, model_name: str, config: TrainConfig, ir_files, vi_files, device: torch.device):
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        args = (child, model_name, config, ir_files, vi_files, str(device), torch.get_num_threads())
        self.process = context.Process(target=_upstream_worker, args=args, daemon=True)
        self.process.start()

    def step(self) -> tuple[float, float]:
        """(seconds, loss) of one upstream step."""
        self.connection.send(True)
        return self.connection.recv()

    def close(self) -> None:
        self.connection.send(False)
        self.process.join()


# ----------------------------------------------------------------- measuring
def timed(device: torch.device, fn):
    """(seconds, result) of ``fn()``, with the device synchronised on both ends."""
    _sync(device)
    start = time.perf_counter()
    result = fn()
    _sync(device)
    return time.perf_counter() - start, result


def loss_difference(trainer: Trainer, batch: torch.Tensor) -> float:
    """|ivif's loss - the upstream formulation's| for the same weights and batch: "equal losses"."""
    ours_model = copy.deepcopy(trainer.model)  # BatchNorm statistics of the trainer stay as they are
    theirs_model = upstream_style.upstream_model(ours_model, trainer.device)
    batch = batch.to(trainer.device)
    ir, vi = batch[:, :1], batch[:, 1:]
    with torch.no_grad():
        ours = fusion_loss(ours_model(batch.contiguous(memory_format=trainer.memory_format)).float(), ir, vi, trainer.config.loss).total
        theirs = upstream_style.fusion_loss(theirs_model(batch), ir, vi, trainer.config.loss).total
    return abs(float(ours) - float(theirs))


def measure(model_name: str, config: TrainConfig, paths: RunPaths, ir_files, vi_files, args) -> dict[str, tuple[float, float]]:
    """Median seconds per step (and mean loss) of each path.

    ivif and upstream steps alternate, so load from other jobs on a shared machine hits
    both sides alike; medians drop the outliers it still causes. The ivif side runs as
    ``Trainer.fit`` does, with freed memory retained; the upstream side in its own process.
    """
    upstream = None if args.skip_upstream else UpstreamProcess(model_name, config, ir_files, vi_files, resolve_device(args.device))
    try:
        with freed_memory_retained():
            trainer = Trainer(config, paths, progress=False)
            trainer.setup()
            return _measure(trainer, upstream, model_name, args)
    finally:
        if upstream is not None:
            upstream.close()


def _measure(trainer: Trainer, upstream: UpstreamProcess | None, model_name: str, args) -> dict[str, tuple[float, float]]:
    device = trainer.device
    batches = iter(trainer.run_batches())
    if upstream is not None:
        print(f"{model_name:<12}same weights and batch, |loss ivif - loss upstream way| = {loss_difference(trainer, next(batches)):.1e}")
    times = {"ivif": [], "upstream": [], "data": [], "model": []}
    losses = {"ivif": [], "upstream": []}
    for step in range(args.warmup + args.steps):
        seconds, terms = timed(device, lambda: trainer.train_step(next(batches)))
        seconds_up, loss_up = upstream.step() if upstream else (float("nan"), float("nan"))
        if step >= args.warmup:
            times["ivif"].append(seconds)
            losses["ivif"].append(float(terms["loss/total"]))
            times["upstream"].append(seconds_up)
            losses["upstream"].append(loss_up)
    resident = next(batches).to(device)
    for step in range(args.warmup + args.steps):
        seconds, _ = timed(device, lambda: trainer.train_step(resident))
        if step >= args.warmup:
            times["model"].append(seconds)
    for _ in range(args.steps * DATA_BATCHES_PER_STEP):
        times["data"].append(timed(device, lambda: next(batches).to(device, non_blocking=True))[0])
    return {path: (float(np.median(t)), float(np.mean(losses.get(path, [float("nan")])))) for path, t in times.items()}


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
    parser.add_argument("--steps", type=int, default=6, help="timed steps per path")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers of the ivif side")
    parser.add_argument("--compile", action="store_true", help="torch.compile ivif's model (train.compile)")
    parser.add_argument("--skip-upstream", action="store_true", help="only the ivif figures")
    args = parser.parse_args()

    device = resolve_device(args.device)
    ir_files, vi_files = png_pairs(args.images)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(
        f"device {device} ({where}), batch {args.batch}, patch {args.patch}, {len(ir_files)} PNG pairs from "
        f"{args.images}, {args.workers} loader workers, median of {args.steps} steps after {args.warmup} warm-up"
    )
    print(f"{'model':<12}{'path':<10}{'s/step':>9}{'patches/s':>11}{'mean loss':>11}")
    with tempfile.TemporaryDirectory(prefix="ivif-bench-") as tmp:
        cache_dir, manifest_dir = build_cache_and_manifest(ir_files, vi_files, Path(tmp))
        for model_name in args.models:
            config = TrainConfig(
                model=model_name,
                manifest="aptp",
                batch_size=args.batch,
                patch_size=args.patch,
                device=args.device,
                epochs=RUN_EPOCHS,
                schedule="constant",
                eval_images=0,
                num_workers=args.workers,
                compile=args.compile,
            )
            out = Path(tmp) / "out" / model_name
            paths = RunPaths(manifest_dir, cache_dir, cache_dir, None, out, out / "metrics.json", out / "loss.csv")
            figures = measure(model_name, config, paths, ir_files, vi_files, args)
            for path, (seconds, mean_loss) in figures.items():
                if not math.isnan(seconds):
                    print(f"{model_name:<12}{path:<10}{seconds:>9.4f}{args.batch / seconds:>11.1f}{mean_loss:>11.4f}")
            if not args.skip_upstream:
                print(f"{model_name:<12}speed-up ivif/upstream: {figures['upstream'][0] / figures['ivif'][0]:.2f}x")
            data, model = figures["data"][0], figures["model"][0]
            print(
                f"{model_name:<12}bottleneck: {'data path' if data > model else 'model'} "
                f"(data {args.batch / data:.0f} vs model {args.batch / model:.0f} patches/s)"
            )


if __name__ == "__main__":
    main()
