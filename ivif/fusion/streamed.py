"""``full`` fusion of huge images in bounded memory: overlapping windows, whole-image statistics.

A ``full`` pass over an H x W image holds the network's activations for every pixel at
once (about 1.2 kB per pixel for the CNN on CPU: 170 GB for 12000 x 12000). Above
:data:`STREAM_ABOVE_PIXELS` ``full`` therefore runs window by window: the (padded) image
is cut into core tiles of :data:`CORE` pixels, each run with a :data:`HALO` of real
neighbours on every side (more than the networks' receptive field), and only the core of
each output is kept.

The networks are not purely local, though: GroupNorm normalises with the whole image's
mean and variance, the CNN's skip gates scale channels by the whole image's mean token,
and channel attention mixes channels by the whole image's Gram matrix. A window alone
would see its own statistics and give a different image. So the whole-image statistics
are computed first, streamed over the same windows (each window contributes its core
only, so every pixel counts once), and then injected while the output windows run:

1. a tiny probe run finds the *global* modules (:data:`GLOBAL_TYPES`), which of them
   feed which (a module's statistics can only be gathered once those it depends on are
   known: its *level*), and which of the model's children each level's inputs depend on;
2. one streaming pass per level gathers that level's statistics; children nothing in it
   depends on return zeros instead of running, and the pass stops as soon as its last
   module has seen the window;
3. the output pass runs every window with all statistics fixed.

The result equals one ``full`` pass to float rounding (max |d| < 2e-5 for the CNN and the
GAN, ``tests/fusion/test_streamed.py``); the Transformer's local gate pools neighbours in
raster order, which wrap across rows, so its first and last columns differ slightly more
(< 1e-3). Cost for the CNN and the GAN: a stem-only pass, an encoder-and-skips pass (the
decoder and head are skipped) and the output pass, about 1.6-2x one ``full`` pass
including the halos (896 x 896 on CPU); the Transformer has 12 levels, so it is slower.
Peak memory is set by the window size, not the image.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ivif.fusion.device import as_model_input, inference_mode
from ivif.models.blocks.attention import ChannelSelfAttention, channel_statistics
from ivif.models.blocks.gates import GlobalChannelGate
from ivif.models.blocks.token_mlp import TokenMLP
from ivif.models.contract import SIZE_MULTIPLE

log = logging.getLogger(__name__)

STREAM_ABOVE_PIXELS = 4_000_000  # ``full`` streams images larger than this (about 5 GB of activations)
CORE = 320  # output pixels per window side (a multiple of 4): 384 x 384 windows, about 0.55 GB on 2 CPU threads
HALO = 32  # neighbours on each side; > the receptive field of the ivif networks (multiple of 4)
PROBE_SIZE = 64
CPU = torch.device("cpu")
GLOBAL_TYPES = (nn.GroupNorm, GlobalChannelGate, ChannelSelfAttention)

# (y0, y1, x0, x1) -> (2, y1 - y0, x1 - x0) float32 model input of the (padded) image
WindowReader = Callable[[int, int, int, int], np.ndarray]
# (top, left, fused) with fused the (h, w) float32 output at rows top:top+h, cols left:left+w
WindowSink = Callable[[int, int, np.ndarray], None]


class _Stop(Exception):
    """Raised inside a gathering pass once its last module has seen the window."""


@dataclass
class _Window:
    height: int  # window size in input pixels
    width: int
    core: tuple[int, int, int, int]  # core rows/cols in window coordinates


@dataclass
class _Global:
    """One global module: its level, gathered sums, and the frozen statistics."""

    module: nn.Module
    level: int = 0
    sums: list[torch.Tensor] | None = None
    count: int = 0
    frozen: object = None
    spatial: tuple[int, int] | None = None  # (h, w) of a gate's tokens, set by its TokenMLP

    def core_of(self, height: int, width: int, window: _Window) -> tuple[slice, slice]:
        scale_h, scale_w = height / window.height, width / window.width
        r0, r1, c0, c1 = window.core
        return slice(round(r0 * scale_h), round(r1 * scale_h)), slice(round(c0 * scale_w), round(c1 * scale_w))

    def add(self, *values: torch.Tensor, count: int) -> None:
        if self.sums is None:
            self.sums = [v.double() for v in values]
        else:
            for acc, v in zip(self.sums, values):
                acc += v.double()
        self.count += count


@dataclass
class _Plan:
    modules: list[_Global]
    levels: int
    last_of_level: dict[int, nn.Module] = field(default_factory=dict)
    # per level: the model's children a gathering pass can skip (nothing it gathers
    # depends on them), with their output (channels, height ratio, width ratio)
    skippable: dict[int, dict[nn.Module, tuple[int, float, float]]] = field(default_factory=dict)


class _Streamer:
    """Holds the pass state and the per-instance overrides of the global modules."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.entries: dict[int, _Global] = {}
        self.order: list[_Global] = []
        self.mode = "probe"  # probe | stream
        self.pass_level = 0
        self.window: _Window | None = None
        self.tags: dict[int, torch.Tensor] = {}
        self.probe_inputs: dict[int, torch.Tensor] = {}
        self.stop_after: nn.Module | None = None

    # --- installation -------------------------------------------------------------
    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        handles, patched = [], []
        for module in self.model.modules():
            if isinstance(module, GLOBAL_TYPES):
                self.entries[id(module)] = _Global(module)
                if isinstance(module, GlobalChannelGate):
                    module.weights = self._gate_weights(module)  # TokenMLP folds the gate through .weights
                    patched.append((module, "weights"))
                else:
                    module.forward = self._forward(module)
                    patched.append((module, "forward"))
            if isinstance(module, TokenMLP) and isinstance(module.gate, GlobalChannelGate):
                handles.append(module.register_forward_pre_hook(self._record_spatial(module.gate)))
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()
            for module, name in patched:
                delattr(module, name)

    def _record_spatial(self, gate: nn.Module):
        def hook(_module, args):
            self.entries[id(gate)].spatial = tuple(args[0].shape[-2:])

        return hook

    # --- behaviour of a global module ------------------------------------------------
    def _enter(self, module: nn.Module, probe_input: torch.Tensor) -> _Global:
        entry = self.entries[id(module)]
        if self.mode == "probe" and id(module) not in self.probe_inputs:
            self.order.append(entry)
            self.probe_inputs[id(module)] = probe_input
        return entry

    def _leave(self, module: nn.Module, out: torch.Tensor) -> torch.Tensor:
        if self.mode == "probe":
            tag = self.tags.setdefault(id(module), torch.zeros((), requires_grad=True, device=out.device))
            return out + tag.to(out.dtype)
        if self.stop_after is module:
            raise _Stop
        return out

    def _forward(self, module: nn.Module):
        cls_forward = type(module).forward

        def forward(x: torch.Tensor) -> torch.Tensor:
            entry = self._enter(module, x)
            if self.mode == "stream" and entry.level < self.pass_level:
                out = self._apply(entry, x)
            else:
                if self.mode == "stream" and entry.level == self.pass_level:
                    self._gather(entry, x)
                out = cls_forward(module, x)
            return self._leave(module, out)

        return forward

    def _gate_weights(self, gate: GlobalChannelGate):
        cls_weights = type(gate).weights

        def weights(tokens: torch.Tensor) -> torch.Tensor:
            entry = self._enter(gate, tokens)
            if self.mode == "stream" and entry.level < self.pass_level:
                out = cls_weights(gate, entry.frozen.to(tokens.dtype))  # the mean of one token is that token
            else:
                if self.mode == "stream" and entry.level == self.pass_level:
                    self._gather(entry, tokens)
                out = cls_weights(gate, tokens)
            return self._leave(gate, out)

        return weights

    def _gather(self, entry: _Global, x: torch.Tensor) -> None:
        module = entry.module
        if isinstance(module, GlobalChannelGate):
            height, width = entry.spatial
            grid = x.reshape(x.shape[0], height, width, x.shape[-1])
            rows, cols = entry.core_of(height, width, self.window)
            core = grid[:, rows, cols].double()
            entry.add(core.sum(dim=(1, 2)), count=core.shape[1] * core.shape[2])
            return
        rows, cols = entry.core_of(x.shape[-2], x.shape[-1], self.window)
        core = x[..., rows, cols].double()
        if isinstance(module, nn.GroupNorm):
            grouped = core.reshape(core.shape[0], module.num_groups, -1)
            entry.add(grouped.sum(dim=-1), (grouped**2).sum(dim=-1), count=grouped.shape[-1])
        else:  # channel attention: Gram matrix and sums of the core's pixels
            gram, sums, pixels = channel_statistics(core.reshape(core.shape[0], core.shape[1], -1))
            entry.add(gram, sums, count=pixels)

    def _freeze(self, entry: _Global) -> None:
        module, n = entry.module, entry.count
        if isinstance(module, GlobalChannelGate):
            entry.frozen = (entry.sums[0] / n)[:, None, :]  # (B, 1, C) mean token
        elif isinstance(module, nn.GroupNorm):
            mean = entry.sums[0] / n
            entry.frozen = (mean, (entry.sums[1] / n - mean**2).clamp_min(0))
        else:
            entry.frozen = (entry.sums[0], entry.sums[1], n)

    def _apply(self, entry: _Global, x: torch.Tensor) -> torch.Tensor:
        module = entry.module
        if isinstance(module, nn.GroupNorm):
            mean, var = entry.frozen
            batch, groups = x.shape[0], module.num_groups
            grouped = x.reshape(batch, groups, -1)
            scale = torch.rsqrt(var + module.eps).to(x.dtype)[..., None]
            normed = ((grouped - mean.to(x.dtype)[..., None]) * scale).reshape(x.shape)
            if module.affine:
                shape = (1, -1) + (1,) * (x.ndim - 2)
                normed = normed * module.weight.view(shape) + module.bias.view(shape)
            return normed
        return type(module).forward(module, x, entry.frozen)  # channel attention with the image's statistics

    # --- the two phases ---------------------------------------------------------------
    def probe(self, device: torch.device) -> _Plan:
        """Find the global modules in call order, their levels, and which of the model's
        children each gathering pass needs, on a small random input."""
        x = torch.rand(1, 2, PROBE_SIZE, PROBE_SIZE, device=device)
        children = [c for c in self.model.children() if not isinstance(c, GLOBAL_TYPES)]
        child_tags: dict[nn.Module, torch.Tensor] = {}
        shapes: dict[nn.Module, tuple[int, float, float]] = {}

        def tag_child(child: nn.Module, _inputs, output):
            if not isinstance(output, torch.Tensor) or output.ndim != 4:
                return None
            tag = child_tags.setdefault(child, torch.zeros((), requires_grad=True, device=output.device))
            shapes[child] = (
                output.shape[1],
                output.shape[2] / PROBE_SIZE,
                output.shape[3] / PROBE_SIZE,
            )
            return output + tag.to(output.dtype)

        hooks = [child.register_forward_hook(tag_child) for child in children]
        try:
            with torch.inference_mode(False), torch.enable_grad():
                self.model(as_model_input(x))
                tags = [self.tags[id(e.module)] for e in self.order]
                taggable = list(child_tags)
                needs: dict[int, set[nn.Module]] = {}
                for entry in self.order:
                    probe_input = self.probe_inputs[id(entry.module)]
                    deps, used = [], set()
                    if probe_input.requires_grad:
                        grads = torch.autograd.grad(
                            probe_input.sum(),
                            [*tags, *(child_tags[c] for c in taggable)],
                            allow_unused=True,
                            retain_graph=True,
                        )
                        deps = [o for o, g in zip(self.order, grads[: len(tags)]) if g is not None and o is not entry]
                        used = {c for c, g in zip(taggable, grads[len(tags) :]) if g is not None}
                    entry.level = 1 + max((d.level for d in deps), default=-1)
                    holder = {c for c in children if any(m is entry.module for m in c.modules())}
                    needs.setdefault(entry.level, set()).update(used | holder)
        finally:
            for hook in hooks:
                hook.remove()
        self.tags.clear()
        self.probe_inputs.clear()
        plan = _Plan(self.order, 1 + max((e.level for e in self.order), default=-1))
        for entry in self.order:  # call order: the last one of each level ends that level's pass
            plan.last_of_level[entry.level] = entry.module
        for level, needed in needs.items():
            plan.skippable[level] = {c: shapes[c] for c in child_tags if c not in needed}
        return plan

    @contextlib.contextmanager
    def skipping(self, skippable: dict[nn.Module, tuple[int, float, float]]) -> Iterator[None]:
        """Children no gathered statistic depends on return zeros of their shape instead of running."""

        def stub(shape: tuple[int, float, float]):
            channels, rows, cols = shape

            def forward(*_args, **_kwargs) -> torch.Tensor:
                height, width = self.window.height, self.window.width
                return torch.zeros(
                    1,
                    channels,
                    round(height * rows),
                    round(width * cols),
                    device=self.device,
                )

            return forward

        for child, shape in skippable.items():
            child.forward = stub(shape)
        try:
            yield
        finally:
            for child in skippable:
                del child.forward


def _windows(height: int, width: int, core: int, halo: int) -> Iterator[tuple[int, int, int, int, _Window]]:
    """Windows over a padded (height, width) image: (y0, y1, x0, x1, window)."""
    for top in range(0, height, core):
        for left in range(0, width, core):
            bottom, right = min(top + core, height), min(left + core, width)
            y0, y1 = max(top - halo, 0), min(bottom + halo, height)
            x0, x1 = max(left - halo, 0), min(right + halo, width)
            yield (
                y0,
                y1,
                x0,
                x1,
                _Window(y1 - y0, x1 - x0, (top - y0, bottom - y0, left - x0, right - x0)),
            )


def reflect_index(index: np.ndarray, size: int) -> np.ndarray:
    """Indices past ``size - 1`` reflected back (as ``F.pad(mode="reflect")`` pads the end)."""
    return np.where(index >= size, 2 * (size - 1) - index, index)


@torch.no_grad()
def fuse_streamed(
    model: nn.Module,
    read: WindowReader,
    height: int,
    width: int,
    device: torch.device = CPU,
    amp: bool = True,
    core: int = CORE,
    halo: int = HALO,
    sink: WindowSink | None = None,
) -> np.ndarray | None:
    """Fuse an image too large for one pass, window by window, as :func:`ivif.fusion.fuse_full` would.

    Args:
        model: a fusion model (eval mode, on ``device``).
        read: returns the (2, h, w) float32 [IR, VIS luma] window ``[y0:y1, x0:x1]`` of the
            image padded (by reflection) to multiples of 4; ``y1``/``x1`` may pass H/W.
        height, width: the image size (before padding).
        core, halo: window core and margin, multiples of 4.
        sink: receives each output window instead of a whole (H, W) float32 array
            (e.g. to write 8-bit pixels straight away).
    Returns:
        (H, W) float32 raw fused luminance, or None with a ``sink``.
    """
    if core % SIZE_MULTIPLE or halo % SIZE_MULTIPLE:
        raise ValueError(f"core ({core}) and halo ({halo}) must be multiples of {SIZE_MULTIPLE}")
    pad_h, pad_w = height + (-height % SIZE_MULTIPLE), width + (-width % SIZE_MULTIPLE)
    streamer = _Streamer(model)
    streamer.device = device
    out = np.empty((height, width), dtype=np.float32) if sink is None else None

    def keep(top: int, left: int, fused: np.ndarray) -> None:
        out[top : top + fused.shape[0], left : left + fused.shape[1]] = fused

    sink = sink or keep

    def run(x0y0: tuple[int, int, int, int], window: _Window) -> torch.Tensor | None:
        y0, y1, x0, x1 = x0y0
        streamer.window = window
        x = torch.from_numpy(read(y0, y1, x0, x1)).to(device)[None]
        try:
            with inference_mode(device, amp):
                return model(as_model_input(x))
        except _Stop:
            return None

    with streamer.installed():
        plan = streamer.probe(device)
        streamer.mode = "stream"
        log.info(
            "streamed fusion of %dx%d: %d global modules, %d gathering passes",
            width,
            height,
            len(plan.modules),
            plan.levels,
        )
        for level in range(plan.levels):
            log.info("streamed fusion: gathering pass %d of %d", level + 1, plan.levels)
            streamer.pass_level, streamer.stop_after = level, plan.last_of_level[level]
            with streamer.skipping(plan.skippable.get(level, {})):
                for y0, y1, x0, x1, window in _windows(pad_h, pad_w, core, halo):
                    run((y0, y1, x0, x1), window)
            for entry in plan.modules:
                if entry.level == level:
                    streamer._freeze(entry)
        streamer.pass_level, streamer.stop_after = plan.levels, None
        log.info("streamed fusion: output pass")
        for y0, y1, x0, x1, window in _windows(pad_h, pad_w, core, halo):
            fused = run((y0, y1, x0, x1), window)
            r0, r1, c0, c1 = window.core
            top, left = y0 + r0, x0 + c0
            bottom, right = min(y0 + r1, height), min(x0 + c1, width)
            if bottom > top and right > left:
                sink(
                    top,
                    left,
                    fused[0, 0, r0 : r0 + bottom - top, c0 : c0 + right - left].float().cpu().numpy(),
                )
    return out


def padded_reader(planes: Callable[[np.ndarray, np.ndarray], np.ndarray], height: int, width: int) -> WindowReader:
    """A :data:`WindowReader` over an image given by ``planes(rows, cols) -> (2, h, w) float32``,
    reflecting rows/cols past the image's end as :func:`ivif.fusion.full.pad_to_multiple` does."""

    def read(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        rows = reflect_index(np.arange(y0, y1), height)
        cols = reflect_index(np.arange(x0, x1), width)
        return planes(rows, cols)

    return read


def unit_reader(inputs: np.ndarray) -> WindowReader:
    """Windows of a (2, H, W) float array in [0, 1]."""
    _, height, width = inputs.shape
    return padded_reader(
        lambda rows, cols: np.ascontiguousarray(inputs[:, rows[:, None], cols[None, :]], dtype=np.float32),
        height,
        width,
    )


__all__ = [
    "CORE",
    "HALO",
    "STREAM_ABOVE_PIXELS",
    "WindowReader",
    "WindowSink",
    "fuse_streamed",
    "padded_reader",
    "unit_reader",
]
