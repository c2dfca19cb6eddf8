"""Fuse image files with a model: one pair, or many with a progress bar.

The library entry points behind ``ivif fuse``; the CLI only parses arguments.

``full`` on an image larger than :data:`ivif.fusion.streamed.STREAM_ABOVE_PIXELS` runs
streamed (:mod:`ivif.fusion.streamed`): the same result to float rounding, in memory set
by the window size instead of the image size.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ivif.allocator import freed_memory_retained, release_freed_memory
from ivif.fusion.color import fused_to_uint8
from ivif.fusion.device import inference_mode, prepare_model
from ivif.fusion.full import fuse_full
from ivif.fusion.io import FusionPair, read_pair, write_fused, write_png
from ivif.fusion.streamed import (
    STREAM_ABOVE_PIXELS,
    WindowReader,
    fuse_streamed,
    unit_reader,
)
from ivif.fusion.tiled import TileConfig, fuse_tiled
from ivif.io.atomic import sweep_stale_temps
from ivif.io.images import ImageError, image_size

log = logging.getLogger(__name__)

MODES = ("full", "tiled")
CPU = torch.device("cpu")
DEFAULT_TILES = TileConfig()  # the upstream protocol, batches of 4


@dataclass(frozen=True)
class FusionJob:
    """Fuse ``ir`` with ``vi`` and write the result to ``out``."""

    name: str
    ir: Path
    vi: Path
    out: Path


@dataclass
class FusionReport:
    """What :func:`fuse_files` did: written outputs, outputs already there, pairs skipped as bad."""

    written: list[Path] = field(default_factory=list)
    existing: list[Path] = field(default_factory=list)
    skipped: list[tuple[FusionJob, str]] = field(default_factory=list)


def fuse_array(
    model: nn.Module,
    inputs: np.ndarray,
    mode: str = "full",
    device: torch.device = CPU,
    tile_config: TileConfig = DEFAULT_TILES,
    amp: bool = True,
    stream_above: int = STREAM_ABOVE_PIXELS,
) -> np.ndarray:
    """(2, H, W) [IR, VIS luma] in [0, 1] -> (H, W) float32 raw fused luminance.

    ``model`` must already be on ``device`` and in eval mode (see
    :func:`ivif.fusion.device.prepare_model`).
    """
    height, width = inputs.shape[-2:]
    return fuse_windows(
        model,
        unit_reader(inputs),
        height,
        width,
        mode,
        device,
        tile_config,
        amp,
        stream_above,
        inputs,
    )


def fuse_pair(
    model: nn.Module,
    pair: FusionPair,
    mode: str = "full",
    device: torch.device = CPU,
    tile_config: TileConfig = DEFAULT_TILES,
    amp: bool = True,
    stream_above: int = STREAM_ABOVE_PIXELS,
) -> np.ndarray:
    """Fuse a :class:`FusionPair` (uint8 planes); huge ``full`` pairs never get a whole float copy."""
    height, width = pair.shape
    small = height * width <= stream_above or mode != "full"
    return fuse_windows(
        model,
        pair.window_reader(),
        height,
        width,
        mode,
        device,
        tile_config,
        amp,
        stream_above,
        pair.stacked() if small else None,
    )


def fuse_windows(
    model: nn.Module,
    read: WindowReader,
    height: int,
    width: int,
    mode: str,
    device: torch.device,
    tile_config: TileConfig,
    amp: bool,
    stream_above: int,
    whole: np.ndarray | None,
) -> np.ndarray:
    """The mode switch: ``full`` in one pass up to ``stream_above`` pixels, streamed above; ``tiled``."""
    if mode not in MODES:
        raise ValueError(f"unknown fusion mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "full" and height * width > stream_above:
        log.info(
            "%dx%d is over %d pixels: full fusion runs streamed in windows",
            width,
            height,
            stream_above,
        )
        return fuse_streamed(model, read, height, width, device, amp)
    x = torch.from_numpy(np.ascontiguousarray(whole, dtype=np.float32))[None].to(device)
    with inference_mode(device, amp):
        fused = fuse_full(model, x) if mode == "full" else fuse_tiled(model, x, tile_config)
    return fused[0, 0].float().cpu().numpy()


def fuse_pair_uint8(
    model: nn.Module,
    pair: FusionPair,
    mode: str = "full",
    device: torch.device = CPU,
    tile_config: TileConfig = DEFAULT_TILES,
    amp: bool = True,
    stream_above: int = STREAM_ABOVE_PIXELS,
) -> np.ndarray:
    """Fuse ``pair`` into the 8-bit image ``--format png`` writes: (H, W), or (H, W, 3) RGB
    with the visible image's colour. Huge ``full`` pairs are written window by window
    into the result, so no float copy of the whole image exists."""
    height, width = pair.shape
    if not (mode == "full" and height * width > stream_above):
        return fused_to_uint8(
            fuse_pair(model, pair, mode, device, tile_config, amp, stream_above),
            pair.vi_rgb,
        )
    vi_rgb = pair.vi_rgb
    image = np.empty(pair.shape if vi_rgb is None else (*pair.shape, 3), dtype=np.uint8)

    def sink(top: int, left: int, fused: np.ndarray) -> None:
        rows, cols = (
            slice(top, top + fused.shape[0]),
            slice(left, left + fused.shape[1]),
        )
        image[rows, cols] = fused_to_uint8(fused, None if vi_rgb is None else vi_rgb[rows, cols])

    log.info(
        "%dx%d is over %d pixels: full fusion runs streamed in windows",
        width,
        height,
        stream_above,
    )
    release_freed_memory()  # the decoders' whole-image buffers are freed but still held by the heap
    fuse_streamed(model, pair.window_reader(), height, width, device, amp, sink=sink)
    return image


def fuse_files(
    model: nn.Module,
    jobs: Sequence[FusionJob],
    mode: str = "full",
    fmt: str = "png",
    device: torch.device = CPU,
    tile_config: TileConfig = DEFAULT_TILES,
    amp: bool = True,
    progress: bool = True,
    skip_bad: bool = False,
    skip_existing: bool = False,
    stream_above: int = STREAM_ABOVE_PIXELS,
) -> FusionReport:
    """Fuse every job (a tqdm bar when ``progress`` and more than one job).

    Outputs are written atomically, so an existing output is complete: with
    ``skip_existing`` it is kept and its pair not fused again. Temporaries left by a killed
    run in the output folders are removed first. With ``skip_bad`` an unreadable or
    over-limit pair is listed in the report instead of stopping the run.
    """
    report = FusionReport()
    for folder in {job.out.parent for job in jobs}:
        for path in sweep_stale_temps(folder):  # only temporaries whose writer is gone
            log.info("removed %s, left by an interrupted run", path)
    todo = []
    for job in jobs:
        if skip_existing and job.out.is_file():
            report.existing.append(job.out)
        else:
            todo.append(job)
    model = prepare_model(model, device)
    with contextlib.ExitStack() as retention:
        retained = False
        for job in tqdm(
            todo,
            desc=f"fuse ({mode})",
            unit="pair",
            disable=not progress or len(todo) < 2,
        ):
            try:
                width, height = image_size(job.ir)
                streamed = mode == "full" and width * height > stream_above
                # Whole-image activations are reused from pair to pair (2x faster `full` on CPU);
                # streamed windows of varying sizes would fragment a heap that is never trimmed.
                if streamed and retained:
                    retention.close()
                    retained = False
                elif not streamed and not retained:
                    retention.enter_context(freed_memory_retained())
                    retained = True
                pair = read_pair(job.ir, job.vi, job.name)
            except (ImageError, FileNotFoundError) as exc:
                if not skip_bad:
                    raise
                report.skipped.append((job, str(exc)))
                log.warning("skipped %s: %s", job.name, exc)
                continue
            if fmt == "png":
                image = fuse_pair_uint8(model, pair, mode, device, tile_config, amp, stream_above)
                del pair  # free the inputs before PIL copies the 8-bit image
                release_freed_memory()
                report.written.append(write_png(job.out, image))
                del image
            else:
                fused = fuse_pair(model, pair, mode, device, tile_config, amp, stream_above)
                del pair
                report.written.append(write_fused(job.out, fused, None, fmt))
    return report
