"""Benchmark: peak memory and time of ``ivif fuse`` on a 12000 x 12000 pair (goal: < 2 GB RSS).

A real MSRS pair (640 x 480, colour visible) is mirrored and tiled up to ``--size`` x
``--size`` and written as PNG to a temporary folder. Each fusion runs in a fresh child
process (``ivif.fusion.fuse_files`` with the released CNN, CPU, ``full`` mode, so the big
pair takes the streamed path); the parent reads the child's peak RSS from ``wait4`` (its
``ru_maxrss``) and the child reports the seconds spent fusing (model loading excluded).
The 640 x 480 pair is timed the same way, for seconds per megapixel side by side.

Usage: ``.venv/bin/python bench/big_image.py [--size 12000] [--threads 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from ivif.io.images import (
    image_size,  # also lifts PIL's bomb warning: ivif checks its own limit
)

SHARED = Path(os.environ.get("IVIF_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
PAIR = ("msrs13", "00004N.png")  # 640 x 480, colour visible
MODEL = f"upstream:cnn:{SHARED / 'weights' / 'upstream' / 'cnn.model'}"
GOAL_BYTES = 2 * 1024**3
PNG_LEVEL = 1  # fast to write; the pixels are what matter


def tiled_up(image: np.ndarray, size: int) -> np.ndarray:
    """Mirror-tile ``image`` to size x size (no seams, so the content stays image-like)."""
    reps = (size // image.shape[0] + 2, size // image.shape[1] + 2)
    flipped = np.concatenate((image, image[::-1]), axis=0)
    block = np.concatenate((flipped, flipped[:, ::-1]), axis=1)
    tiles = np.tile(block, (reps[0] // 2 + 1, reps[1] // 2 + 1) + (1,) * (image.ndim - 2))
    return np.ascontiguousarray(tiles[:size, :size])


def make_pair(folder: Path, size: int | None) -> tuple[Path, Path]:
    paths = []
    for modality in ("ir", "vi"):
        image = np.asarray(Image.open(SHARED / "data" / PAIR[0] / modality / PAIR[1]))
        if size is not None:
            image = tiled_up(image, size)
        path = folder / f"{modality}.png"
        Image.fromarray(image).save(path, compress_level=PNG_LEVEL)
        paths.append(path)
    return paths[0], paths[1]


def child(ir: str, vi: str, out: str, threads: int) -> None:
    import logging
    import resource

    import torch

    from ivif.fusion import FusionJob, fuse_files
    from ivif.models.spec import load_model_from_spec

    class Progress(logging.Handler):  # when and at what peak RSS each phase starts, to stderr
        def emit(self, record: logging.LogRecord) -> None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"[{time.perf_counter() - start:8.1f} s, peak RSS {peak:6.0f} MB] {record.getMessage()}",
                file=sys.stderr,
                flush=True,
            )

    logging.getLogger("ivif.fusion").addHandler(Progress())
    logging.getLogger("ivif.fusion").setLevel(logging.INFO)
    torch.set_num_threads(threads)
    model = load_model_from_spec(MODEL)
    start = time.perf_counter()
    fuse_files(
        model,
        [FusionJob("big", Path(ir), Path(vi), Path(out))],
        device=torch.device("cpu"),
        progress=False,
    )
    print(json.dumps({"seconds": time.perf_counter() - start}))


def measure(ir: Path, vi: Path, out: Path, threads: int) -> tuple[float, int]:
    """(fusion seconds, peak RSS bytes) of one child process."""
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            str(ir),
            str(vi),
            str(out),
            "--threads",
            str(threads),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": str(threads)},
    )
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child failed with exit code {proc.returncode}")
    return json.loads(stdout.decode().strip().splitlines()[-1])["seconds"], usage.ru_maxrss * 1024  # Linux: kB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=12000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", nargs=3, metavar=("IR", "VI", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.threads)
        return
    with tempfile.TemporaryDirectory(prefix="ivif-big-") as tmp:
        rows = []
        for label, size in (("640x480", None), (f"{args.size}x{args.size}", args.size)):
            folder = Path(tmp) / label
            folder.mkdir()
            ir, vi = make_pair(folder, size)
            width, height = image_size(ir)
            pixels = width * height
            seconds, peak = measure(ir, vi, folder / "fused.png", args.threads)
            assert image_size(folder / "fused.png") == image_size(vi)
            rows.append((label, pixels, seconds, peak))
    print(f"ivif fuse, released CNN, full mode, CPU, {args.threads} thread(s); peak RSS of the fusing process")
    print(f"{'pair':>12} {'MP':>7} {'seconds':>9} {'s/MP':>7} {'peak RSS (MB)':>14}")
    for label, pixels, seconds, peak in rows:
        print(f"{label:>12} {pixels / 1e6:7.1f} {seconds:9.1f} {seconds / (pixels / 1e6):7.2f} {peak / 1024**2:14.0f}")
    big = rows[-1]
    ratio = (big[2] / big[1]) / (rows[0][2] / rows[0][1])
    print(f"time per megapixel: {ratio:.2f}x the 640x480 figure; peak RSS {'under' if big[3] < GOAL_BYTES else 'OVER'} the 2 GB goal")


if __name__ == "__main__":
    main()
