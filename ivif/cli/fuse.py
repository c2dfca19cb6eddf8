"""``ivif fuse``: fuse IR/visible pairs (files or folders) with any fusion model.

Examples::

    ivif fuse --model upstream:cnn:../shared/weights/upstream/cnn.model \\
              --ir data/sample/ir --vi data/sample/vi --out fused/
    ivif fuse --model models/cnn.pt --ir ir.png --vi vi.png --out fused.png --mode tiled
    ivif fuse --model models:/ivif-cnn@champion --ir ir/ --vi vi/ --out out/ --format npy
    ivif fuse --model models/cnn.pt --ir ir/ --vi vi/ --out out/ --skip-bad   # rerun: resumes

Folder runs keep outputs that already exist (written atomically, so complete) unless
``--overwrite``; ``--skip-bad`` lists unreadable or over-limit pairs instead of stopping.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ivif.cli import CLIError

FORMATS = ("png", "npy")
MODE_CHOICES = ("full", "tiled")
DEVICE_CHOICES = ("auto", "cpu", "cuda")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "fuse",
        help="fuse IR/visible pairs (files, or folders matched by file stem)",
        description="Fuse infrared/visible pairs. Colour visible images are fused on their luminance and "
        "keep their colour; grayscale stays grayscale.",
    )
    parser.add_argument(
        "--model", required=True, metavar="SPEC", help="upstream:<cnn|transformer|gan>:PATH, an ivif checkpoint PATH, or models:/NAME@ALIAS"
    )
    parser.add_argument("--ir", required=True, type=Path, help="infrared image or folder")
    parser.add_argument("--vi", required=True, type=Path, help="visible image or folder (same stems as --ir)")
    parser.add_argument("--out", required=True, type=Path, help="output file (single pair) or folder")
    parser.add_argument(
        "--mode", choices=MODE_CHOICES, default="full", help="full: one padded pass (default); tiled: the upstream 128-px tile protocol"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="png", dest="fmt", help="png: 8-bit image (default); npy: raw float32 fused luminance"
    )
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="default: cuda when available")
    parser.add_argument("--tile-batch", type=int, help="tiles per forward pass in tiled mode (default: 4 on CPU, 64 on CUDA)")
    parser.add_argument("--no-amp", action="store_true", help="disable float16 autocast on CUDA")
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip and list pairs that cannot be read (corrupt, unsupported, over the pixel limit, size mismatch) instead of stopping",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="fuse folder pairs again even when their output already exists (default: keep complete outputs, so a rerun resumes)",
    )
    parser.set_defaults(func=run)
    return parser


def plan_jobs(ir: Path, vi: Path, out: Path, fmt: str):
    """The (name, ir, vi, out) jobs for files or folders; errors name the path and the fix."""
    from ivif.fusion import FusionJob, match_pairs
    from ivif.fusion.io import FORMAT_SUFFIXES

    suffix = FORMAT_SUFFIXES[fmt]
    for path in (ir, vi):
        if not path.exists():
            raise FileNotFoundError(f"input not found: {path}")
    if ir.is_dir() != vi.is_dir():
        raise CLIError(f"--ir {ir} and --vi {vi} must both be files or both be folders")
    if ir.is_dir():
        if out.suffix and not out.is_dir():
            raise CLIError(f"--out {out} must be a folder when --ir/--vi are folders")
        return [FusionJob(stem, ir_path, vi_path, out / f"{stem}{suffix}") for stem, ir_path, vi_path in match_pairs(ir, vi)]
    if out.is_dir() or not out.suffix:
        target = out / f"{ir.stem}{suffix}"
    elif out.suffix.lower() != suffix:
        raise CLIError(f"--out {out} has suffix {out.suffix!r} but --format {fmt} writes {suffix} files; rename it or change --format")
    else:
        target = out
    return [FusionJob(ir.stem, ir, vi, target)]


def run(args: argparse.Namespace) -> int:
    from ivif.fusion import TileConfig, fuse_files
    from ivif.fusion.device import resolve_device
    from ivif.fusion.tiled import tile_config_for
    from ivif.models.spec import load_model_from_spec
    from ivif.registry.loading import enable_model_uris, lookup_store

    jobs = plan_jobs(args.ir, args.vi, args.out, args.fmt)  # fail on paths before loading a model
    device = resolve_device(args.device)
    enable_model_uris(lookup_store())  # models:/ specs: the project's store, never a new one
    model = load_model_from_spec(args.model)
    report = fuse_files(
        model,
        jobs,
        mode=args.mode,
        fmt=args.fmt,
        device=device,
        tile_config=tile_config_for(device) if args.tile_batch is None else TileConfig(batch_size=args.tile_batch),
        amp=not args.no_amp,
        skip_bad=args.skip_bad,
        skip_existing=args.ir.is_dir() and not args.overwrite,
    )
    outputs = report.written + report.existing
    target = outputs[0] if len(jobs) == 1 and outputs else args.out
    print(f"fused {len(report.written)} pair(s) with {args.model} ({args.mode}, {device.type}) -> {target}")
    if report.existing:
        print(f"kept {len(report.existing)} complete output(s) from an earlier run (--overwrite to fuse them again)")
    if report.skipped:
        print(f"skipped {len(report.skipped)} unreadable pair(s):")
        for job, reason in report.skipped:
            print(f"  {job.name}: {reason}")
    return 0
