"""Benchmark: study cells per hour with --jobs 1 and --jobs 2 (and GPU packing when CUDA is present).

Runs a smoke-sized study (CNN, SPTP/APTP, N in {2, 4}, two seeds; 32² patches, batch 4,
``--steps`` steps; 2 test images) from scratch in a temporary folder, once per setting,
with the study runner (one process per cell, cores split between jobs; no Prefect, so the
figure is the cells' own throughput). On a CUDA machine it also runs the cells on the GPU
one at a time against ``--pack`` at once on the same device, and prints the speed-up.

Usage::

    .venv/bin/python bench/study.py [--steps 40] [--seeds 2] [--pack 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _study(folder: Path, args, device: str) -> dict:
    return {
        "name": "bench",
        "work_dir": str(folder / "work"),
        "report_dir": str(folder / "report"),
        "data": {"root": str(folder.parent / "data"), "datasets": {"sample": {"from": str(ROOT / "data" / "sample")}}},
        "train_dataset": "sample",
        "train": {"batch_size": 4, "patch_size": 32, "lr": 1.0e-3, "log_every": 10, "ckpt_every": 1000, "device": device},
        "evaluate": {"metrics": ["EN", "VIF"], "device": device, "max_images": 2},
        "budgets": {"equal": {"steps": args.steps}},
        "blocks": [{"name": "b", "paradigms": ["sptp", "aptp"], "n": [2, 4], "seeds": list(range(args.seeds)), "budget": "equal"}],
        "tracking": {"enabled": False},
    }


def _cells_per_hour(base: Path, name: str, args, jobs: int, device: str) -> tuple[float, int]:
    from ivif.study.runner import run_study
    from ivif.study.spec import load_study

    folder = base / name
    folder.mkdir()
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(_study(folder, args, device)))
    study = load_study(path, ROOT)
    from ivif.study.cells import expand
    from ivif.study.runner import prepare

    cells = expand(study)
    prepare(study, cells)  # data preparation is not part of the cells' throughput
    start = time.perf_counter()
    run_study(study, jobs=jobs, emit=lambda line: None, report=False)
    seconds = time.perf_counter() - start
    return len(cells) / seconds * 3600, len(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps per cell (default 40)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per (paradigm, N): cells = 4 x seeds (default 2)")
    parser.add_argument("--pack", type=int, default=4, help="cells at once on one GPU (default 4)")
    args = parser.parse_args(argv)
    import torch

    with tempfile.TemporaryDirectory(prefix="ivif-bench-study-") as tmp:
        base = Path(tmp)
        rates = {}
        for jobs in (1, 2):
            rate, cells = _cells_per_hour(base, f"cpu-j{jobs}", args, jobs, "cpu")
            rates[jobs] = rate
            print(f"cpu  --jobs {jobs}: {rate:8.1f} cells/hour  ({cells} smoke-sized cells, {args.steps} steps, 32² patches)")
        print(f"cpu  --jobs 2 / --jobs 1: {rates[2] / rates[1]:.2f}x")
        if torch.cuda.is_available():
            one, cells = _cells_per_hour(base, "gpu-j1", args, 1, "cuda")
            packed, _ = _cells_per_hour(base, f"gpu-j{args.pack}", args, args.pack, "cuda")
            print(f"cuda one at a time: {one:8.1f} cells/hour")
            print(f"cuda {args.pack} packed    : {packed:8.1f} cells/hour  ({packed / one:.2f}x; goal >= 3x)")
        else:
            print("cuda: not available on this machine (GPU packing not measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
