"""Benchmark: seconds per image for the whole metric suite, ivif vs the reference style.

    .venv/bin/python bench/metrics.py [--repeats 3] [--sizes 640x480 1024x768]

For each size, one synthetic fused triplet is scored by ``bench/reference_style.py``
(single image, ``scipy.signal.convolve2d``, the way the public evaluators do it) and
by ``ivif.metrics.compute_metrics``; per-metric and total times are the best of
``--repeats`` runs, both on one thread (so the comparison is per core and a busy
machine hurts both alike). The two must agree: the largest relative difference is
printed too. A batched ``compute_metrics_batch`` figure (per image, batch of 8) is
printed for training-time evaluation.

    python bench/metrics.py --device cuda [--batch 32]

times ``compute_metrics_batch`` on the GPU instead (float64 and float32, wall seconds
per image, synchronised) and checks it against the CPU's float64 numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_style  # noqa: E402

from ivif.allocator import freed_memory_retained  # noqa: E402
from ivif.metrics import METRIC_NAMES, compute_metrics, compute_metrics_batch  # noqa: E402
from ivif.metrics.conventions import CDDFUSE  # noqa: E402
from ivif.metrics.suite import METRICS  # noqa: E402

REFERENCE = {
    "EN": lambda ir, vi, f: reference_style.entropy(f),
    "SD": lambda ir, vi, f: reference_style.standard_deviation(f),
    "SF": lambda ir, vi, f: reference_style.spatial_frequency(f),
    "AG": lambda ir, vi, f: reference_style.average_gradient(f),
    "MI": lambda ir, vi, f: reference_style.mutual_information(f, ir, vi),
    "SCD": lambda ir, vi, f: reference_style.scd(f, ir, vi),
    "VIF": lambda ir, vi, f: reference_style.vif(f, ir, vi),
    "Qabf": lambda ir, vi, f: reference_style.qabf(f, ir, vi),
    "SSIM": lambda ir, vi, f: reference_style.ssim(f, ir, vi),
    "CC": lambda ir, vi, f: reference_style.cc(f, ir, vi),
    "PSNR": lambda ir, vi, f: reference_style.psnr(f, ir, vi),
    "MSE": lambda ir, vi, f: reference_style.mse(f, ir, vi),
}
BATCH = 8


def synthetic_triplet(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rounded 0..255 IR, VI and a blended fused image with texture and flat areas."""
    rng = np.random.default_rng(seed)

    def scene() -> np.ndarray:
        coarse = cv2.resize(rng.normal(size=(height // 16, width // 16)), (width, height), interpolation=cv2.INTER_CUBIC)
        img = 120 + 45 * coarse + rng.normal(scale=6, size=(height, width))
        img[: height // 6, : width // 5] = 255  # a saturated patch, as in real IR
        return np.clip(np.round(img), 0, 255)

    ir, vi = scene(), scene()
    return ir, vi, np.clip(np.round(0.55 * ir + 0.45 * vi), 0, 255)


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def bench_size(height: int, width: int, repeats: int) -> None:
    ir, vi, fused = synthetic_triplet(height, width)
    t_ir, t_vi, t_f = (torch.from_numpy(a)[None] for a in (ir, vi, fused))
    print(f"\n{width}x{height}: CPU seconds per image (best of {repeats}), one thread")
    print(f"{'metric':<8}{'reference':>12}{'ivif':>10}{'speed-up':>10}")
    ref_total = ivif_total = 0.0
    for name in METRIC_NAMES:
        t_ref = best_time(lambda: REFERENCE[name](ir, vi, fused), max(1, repeats // 2))
        t_ivif = best_time(lambda: METRICS[name](t_ir, t_vi, t_f, CDDFUSE), repeats)
        ref_total += t_ref
        ivif_total += t_ivif
        print(f"{name:<8}{t_ref:>12.4f}{t_ivif:>10.4f}{t_ref / t_ivif:>9.1f}x")
    suite = best_time(lambda: compute_metrics(ir, vi, fused), repeats)
    print(f"{'sum':<8}{ref_total:>12.4f}{ivif_total:>10.4f}{ref_total / ivif_total:>9.1f}x")
    print(f"whole suite via compute_metrics: {suite:.4f} s/image -> {ref_total / suite:.1f}x faster than reference")

    batch = [torch.from_numpy(np.stack([a] * BATCH)) for a in (ir, vi, fused)]
    per_image = best_time(lambda: compute_metrics_batch(*batch), repeats) / BATCH
    print(f"compute_metrics_batch (B={BATCH}, CPU): {per_image:.4f} s/image")

    ours = compute_metrics(ir, vi, fused)
    theirs = reference_style.all_metrics(ir, vi, fused)
    worst = max(abs(ours[k] - theirs[k]) / max(abs(theirs[k]), 1e-12) for k in METRIC_NAMES)
    print(f"largest relative difference ivif vs reference: {worst:.2e}")


def bench_device(height: int, width: int, device: str, batch: int, repeats: int) -> None:
    triplets = [synthetic_triplet(height, width, seed) for seed in range(batch)]
    cpu = [torch.from_numpy(np.stack(images)) for images in zip(*triplets)]
    expected = compute_metrics_batch(*cpu)
    print(f"\n{width}x{height}, batch {batch} on {device}: wall seconds per image (best of {repeats})")
    for dtype in (torch.float64, torch.float32):
        on_device = [t.to(device=device, dtype=dtype) for t in cpu]

        def run() -> dict[str, torch.Tensor]:
            values = compute_metrics_batch(*on_device)
            torch.cuda.synchronize()
            return values

        run()  # warm-up: kernels, allocator
        start = time.perf_counter()
        for _ in range(repeats):
            values = run()
        per_image = (time.perf_counter() - start) / repeats / batch
        worst = {
            name: float(((values[name].double().cpu() - expected[name]).abs() / expected[name].abs().clamp(min=1e-12)).max())
            for name in METRIC_NAMES
        }
        worst_name = max(worst, key=worst.get)
        print(
            f"{str(dtype):<15}{per_image:.5f} s/image; largest relative difference to CPU float64: {worst[worst_name]:.2e} ({worst_name})"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=["640x480", "1024x768"], help="WIDTHxHEIGHT")
    parser.add_argument("--device", default="cpu", help="cpu: against the reference style; cuda: batched on the GPU")
    parser.add_argument("--batch", type=int, default=16, help="batch size for --device cuda")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    with freed_memory_retained():  # as `ivif metrics` does; the reference style benefits too
        for size in args.sizes:
            width, height = (int(v) for v in size.lower().split("x"))
            if args.device == "cpu":
                bench_size(height, width, args.repeats)
            else:
                bench_device(height, width, args.device, args.batch, args.repeats)


if __name__ == "__main__":
    main()
