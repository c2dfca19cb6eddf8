"""The training engine: one loop for every model (CNN, Transformer, GAN) and paradigm.

What one optimizer step does (:meth:`Trainer.train_step`):

1. a (B, 2, P, P) batch of [IR, visible-Y] patches from the manifest's pair loader;
2. the model's fused output (channels_last; bf16 autocast on CUDA);
3. for the GAN, one discriminator update first (:mod:`ivif.training.gan`);
4. the paper's loss α·intensity + gradient + β·SSIM (+ λ·adversarial), in float32;
5. the NaN/Inf guard, backward, gradient clipping, Adam(W) step, LR schedule step.

Around it: a progress bar with rate and ETA, windowed loss logging, periodic held-out
evaluation, and full-state checkpoints from which ``resume=True`` continues exactly
(bitwise on CPU). A checkpoint records the run's identity (:func:`run_identity`:
everything that decides the trajectory except its length); ``resume="auto"`` continues
a checkpoint of the same identity and starts afresh, saying why, from any other.
Batches run across epoch boundaries, so an epoch smaller than a batch still trains.
A SIGTERM or SIGINT stops a single-process run after the current
step with that step checkpointed (:mod:`ivif.training.interrupt`). Under ``torchrun``
each rank trains on its own share of the manifest with DDP; rank 0 logs, evaluates
and writes every file. Large freed tensors are kept for reuse during the run
(:mod:`ivif.allocator`).

Reporting goes through callbacks (:class:`Callback`), so the engine knows nothing of
MLflow; :mod:`ivif.training.tracking` is one such callback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import random
import signal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ivif.allocator import freed_memory_retained
from ivif.data.cache import ImageCache
from ivif.evaluation import EvaluateConfig
from ivif.fusion.device import resolve_device
from ivif.io.atomic import atomic_write_text
from ivif.losses.total import fusion_loss
from ivif.models import create_discriminator, create_model
from ivif.models.checkpoint import save_checkpoint
from ivif.pairing.loader import PairDataset
from ivif.pairing.manifest import load_manifest, read_summary
from ivif.params import flatten
from ivif.training.checkpoint import CheckpointError, capture_rng, has_state, load_state, restore_rng, save_state
from ivif.training.config import TrainConfig
from ivif.training.distributed import init_distributed, rank_device
from ivif.training.evaluation import EvalResult, evaluate, preview_grid, write_png
from ivif.training.gan import Adversary
from ivif.training.guard import FiniteGuard, check_finite
from ivif.training.history import LossHistory, LossWindow
from ivif.training.interrupt import StopRequest
from ivif.training.paths import RunPaths
from ivif.training.samples import RunSamples
from ivif.training.schedule import build_scheduler, retarget_schedule

AMP_DTYPE = torch.bfloat16  # no loss scaling needed, unlike float16
# train params that do not change the trajectory (only its length, cadence or speed):
# a checkpoint written with other values of these may be resumed. Everything else in
# the train section is part of a run's identity.
NON_IDENTITY_KEYS = (
    "epochs",
    "max_steps",
    "log_every",
    "eval_every",
    "eval_split",
    "eval_images",
    "ckpt_every",
    "num_workers",
    "device",
    "compile",
)
AUTO = "auto"  # fit(resume=AUTO): resume a checkpoint of the same identity, else start fresh
CODE_PACKAGE = Path(__file__).resolve().parents[1]  # the ivif package: its code is part of the identity

logger = logging.getLogger(__name__)


def code_digest(package: Path = CODE_PACKAGE) -> str:
    """sha256 of every ``.py`` file of the ivif package (path and content), in path order."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_identity(config: TrainConfig, model_kwargs: Mapping[str, Any], manifest_dir: str | Path) -> dict[str, Any]:
    """What decides a run's trajectory, except its length: a checkpoint with an equal
    identity may be resumed. Flattened train params (without :data:`NON_IDENTITY_KEYS`),
    model kwargs, the manifest's table hash, its caches' content hashes and the code."""
    summary = read_summary(manifest_dir)
    params = {k: v for k, v in flatten(dataclasses.asdict(config)).items() if k.split(".")[0] not in NON_IDENTITY_KEYS}
    return {
        **{f"train.{k}": v for k, v in params.items()},
        "model_kwargs": json.dumps(dict(model_kwargs), sort_keys=True, default=str),
        "manifest_sha256": summary["table"]["sha256"],
        "data_ir_hash": summary["sources"]["ir"]["content_hash"],
        "data_vis_hash": summary["sources"]["vis"]["content_hash"],
        "code_sha256": code_digest(),
    }


def identity_changes(saved: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """``key=saved`` for every identity entry that differs (all of them for an old checkpoint)."""
    if saved is None:
        return ["identity=None (a checkpoint from before run identities were recorded)"]
    return [f"{key}={saved.get(key)!r}" for key in sorted(set(saved) | set(current)) if saved.get(key) != current.get(key)]


class Callback(Protocol):
    """Receives what the engine reports (on rank 0 only). All methods are optional."""

    def on_start(self, step: int, resumed: bool) -> None: ...

    def on_log(self, step: int, metrics: Mapping[str, float]) -> None: ...

    def on_eval(self, step: int, result: EvalResult) -> None: ...

    def on_end(self, result: TrainResult) -> None: ...


@dataclass
class TrainResult:
    """What a finished (or deliberately stopped) run leaves behind."""

    step: int
    total_steps: int
    epoch: int
    losses: dict[str, float]
    eval_metrics: dict[str, float]
    paths: RunPaths
    model: nn.Module
    model_name: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    history: LossHistory = field(default_factory=LossHistory)
    stopped_early: bool = False
    interrupted_by: signal.Signals | None = None
    """The signal that stopped the run early (SIGTERM, SIGINT), if one did."""

    @property
    def completed(self) -> bool:
        return self.step >= self.total_steps and not self.stopped_early


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) RNGs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class _Position:
    """Where the run is: optimizer steps done, and the epoch (and samples of it consumed)
    the next step reads from."""

    step: int = 0
    epoch: int = 0
    batch: int = 0


class Trainer:
    """Train ``config.model`` on the manifest in ``paths``.

    Args:
        config: the ``train:`` section.
        paths: inputs and outputs (:meth:`RunPaths.for_run`).
        callbacks: reporting hooks (MLflow, tests).
        progress: show a tqdm bar on a terminal (rank 0); False, or no terminal: log lines (:mod:`ivif.io.progress`).
        model_kwargs: ``create_model`` keyword arguments (default architecture if empty).
    """

    def __init__(
        self,
        config: TrainConfig,
        paths: RunPaths,
        callbacks: Sequence[Callback] = (),
        progress: bool = True,
        model_kwargs: Mapping[str, Any] | None = None,
        evaluation: EvaluateConfig = EvaluateConfig(),
    ):
        self.config = config
        self.paths = paths
        self.callbacks = list(callbacks)
        self.progress = progress
        self.model_kwargs = dict(model_kwargs or {})
        self.evaluation = evaluation  # the evaluate stage's settings: training's held-out numbers equal its numbers

    # ----------------------------------------------------------------- public API
    def fit(self, resume: bool | Literal["auto"] = False, stop_after_steps: int | None = None) -> TrainResult:
        """Run training to the end (or until ``stop_after_steps``, then checkpoint and return).

        ``resume=True`` continues from ``paths.last_state`` when it exists (and starts
        fresh when it does not, so a retried pipeline stage just works); a checkpoint of
        another identity is an error. ``resume="auto"`` starts fresh from such a
        checkpoint instead, logging why. ``stop_after_steps`` simulates an
        interruption: the state is saved at that step.
        """
        try:
            with freed_memory_retained():  # each step's large tensors are reused, not page-faulted afresh
                self.setup()
                self.resumed = (
                    bool(resume) and has_state(self.paths.last_state) and self._resume(self.paths.last_state, strict=resume is True)
                )
                if self.dist.is_main:
                    for callback in self.callbacks:
                        if hasattr(callback, "on_start"):
                            callback.on_start(self.position.step, self.resumed)
                return self._run(stop_after_steps)
        finally:
            if hasattr(self, "dist"):  # leave the torchrun job even when setup failed
                self.dist.shutdown()

    # ---------------------------------------------------------------------- setup
    def setup(self) -> None:
        """Pick the device, join the torchrun job (if any), build data, model, optimizer.

        :meth:`fit` calls it; call it yourself only to drive :meth:`train_step` directly
        (benchmarks).
        """
        config = self.config
        self.device = rank_device(resolve_device(config.device, setting="train.device"))
        self.dist = init_distributed(self.device)
        device, dist = self.device, self.dist
        self.cuda = device.type == "cuda"
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        seed_everything(config.seed)

        self.dataset = self._build_dataset()
        self.epoch_samples = len(self.dataset)  # this rank's share of an epoch; batches run across epochs
        if self.epoch_samples == 0:
            raise ValueError(f"{self.paths.manifest}: an epoch gives this process no pairs; draw more pairs (pairs.manifests.*.samples)")
        epoch_steps = math.ceil(config.epochs * self.epoch_samples / config.batch_size)
        self.total_steps = min(epoch_steps, config.max_steps) if config.max_steps else epoch_steps
        self.identity = run_identity(config, self.model_kwargs, self.paths.manifest)

        self.model = create_model(config.model, **self.model_kwargs).to(device, memory_format=self.memory_format)
        self.model.train()
        self.optimizer = self._build_optimizer(self.model.parameters())
        self.scheduler = build_scheduler(self.optimizer, self.total_steps, config.schedule, config.warmup_steps, config.min_lr_ratio)
        self.adversary = None
        if config.is_gan:
            discriminator = create_discriminator(image_size=config.patch_size).to(device, memory_format=self.memory_format)
            self.adversary = Adversary(dist.wrap(discriminator, device), config.gan.lr, config.gan.betas)
        forward = dist.wrap(self.model, device)
        self.forward_model = torch.compile(forward) if config.compile else forward
        self.position = _Position()
        self.history = LossHistory()
        self.window = LossWindow()
        self.guard = FiniteGuard(deferred=self.cuda)  # no host sync per step on a GPU

    def _build_dataset(self) -> PairDataset:
        manifest = load_manifest(self.paths.manifest)
        return PairDataset(
            manifest,
            ImageCache(self.paths.ir_cache),
            ImageCache(self.paths.vis_cache),
            patch_size=self.config.patch_size,
            seed=self.config.seed,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
            drop_last=True,  # equal shares: every rank runs the same number of steps
        )

    def _build_optimizer(self, parameters) -> torch.optim.Optimizer:
        if self.config.weight_decay:
            return torch.optim.AdamW(parameters, lr=self.config.lr, weight_decay=self.config.weight_decay)
        return torch.optim.Adam(parameters, lr=self.config.lr)

    # ------------------------------------------------------------------------ loop
    def _run(self, stop_after_steps: int | None) -> TrainResult:
        config, position, window = self.config, self.position, self.window
        losses: dict[str, float] = {}
        eval_result = EvalResult({})
        stop = StopRequest()
        with self._progress_bar() as bar, stop.installed(enabled=self.dist.world_size == 1):
            for batch in self.run_batches():
                terms = self.train_step(batch)
                position.step += 1
                position.epoch, position.batch = self._epoch_of(position.step)
                window.add(terms)
                bar.update(1)
                step = position.step
                if step % config.log_every == 0 or step == self.total_steps:
                    losses = self._log(window, bar)
                if config.eval_every and step % config.eval_every == 0 and step < self.total_steps:
                    eval_result = self._evaluate()
                stopping = step == stop_after_steps or stop.requested
                if step % config.ckpt_every == 0 or step == self.total_steps or stopping:
                    self._save(self.paths.last_state)
                if stopping:
                    return self._result(losses, eval_result, stopped_early=True, interrupted_by=stop.signal)
        return self._finish(losses)

    def run_batches(self) -> Iterator[torch.Tensor]:
        """The batches left in the run, epoch after epoch, from one DataLoader.

        One loader for the whole run keeps its workers (and their prefetched batches)
        across epoch boundaries (:mod:`ivif.training.samples`).
        """
        batch_size = self.config.batch_size
        samples = RunSamples(self.dataset, self.epoch_samples, self.position.step * batch_size, self.total_steps * batch_size)
        loader = DataLoader(
            samples,
            batch_size=batch_size,
            shuffle=False,  # the manifest already is in each epoch's shuffled order
            drop_last=True,
            num_workers=self.config.num_workers,
            pin_memory=self.cuda,
        )
        yield from loader

    def _autocast(self):
        if self.cuda and self.config.amp:
            return torch.autocast("cuda", dtype=AMP_DTYPE)
        return contextlib.nullcontext()

    def train_step(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """One optimizer step on a (B, 2, P, P) batch; returns detached loss terms."""
        config, step = self.config, self.position.step + 1
        batch = batch.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
        ir, vi = batch[:, :1], batch[:, 1:]
        with self._autocast():
            fused = self.forward_model(batch)
        fused = fused.float()  # losses in float32 whatever the autocast dtype
        logged: dict[str, torch.Tensor] = {}
        if self.adversary is not None:
            with self._autocast():
                d_loss = self.adversary.discriminator_step(ir, vi, fused)
            self.guard.observe(d_loss, "the discriminator loss", step, self._last_good())
            logged["loss/discriminator"] = d_loss
        terms = fusion_loss(fused, ir, vi, config.loss)
        total = terms.total
        if self.adversary is not None:
            with self._autocast():
                adversarial = self.adversary.generator_loss(fused)
            total = total + config.loss.adversarial * adversarial
            logged["loss/adversarial"] = adversarial.detach()
        self.guard.observe(total, "the training loss", step, self._last_good())
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if config.grad_clip:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
            self.guard.observe(norm, "the gradient norm", step, self._last_good())
        self.optimizer.step()
        self.scheduler.step()
        return {**{f"loss/{name}": value.detach() for name, value in terms._asdict().items()}, **logged}

    def _last_good(self):
        return self.paths.last_state if self.dist.is_main else None

    # --------------------------------------------------------------- reporting
    @contextlib.contextmanager
    def _progress_bar(self):
        from ivif.io.progress import progress_bar  # a bar on a terminal, else a log line now and then

        patches_per_step = self.config.batch_size * self.dist.world_size
        with progress_bar(
            total=self.total_steps,
            initial=self.position.step,
            desc=f"train {self.config.run_name}",
            unit="step",
            enabled=self.progress,
            silent=not self.dist.is_main,
        ) as bar:
            bar.set_postfix(patches_per_step=patches_per_step)
            yield bar

    def _log(self, window: LossWindow, bar) -> dict[str, float]:
        """Turn the window's means into one log row (on every rank: the loss curve is per rank 0)."""
        self.guard.verify(self.position.step, self._last_good())
        means = window.pop_means()  # keys are "loss/<term>" already
        lr = self.scheduler.get_last_lr()[0]
        self.history.append(self.position.step, self._last_epoch(), lr, means)
        if self.dist.is_main:
            bar.set_postfix(loss=f"{means.get('loss/total', float('nan')):.4f}", lr=f"{lr:.2e}")
            for callback in self.callbacks:
                if hasattr(callback, "on_log"):
                    callback.on_log(self.position.step, {**means, "lr": lr})
        return means

    def _evaluate(self) -> EvalResult:
        if not self.dist.is_main or self.paths.eval_cache is None or not self.config.eval_images:
            return EvalResult({})
        result = evaluate(self.model, ImageCache(self.paths.eval_cache), self.config.eval_images, self.device, self.evaluation)
        for callback in self.callbacks:
            if hasattr(callback, "on_eval"):
                callback.on_eval(self.position.step, result)
        return result

    # ------------------------------------------------------------- checkpoints
    def _state(self) -> dict[str, Any]:
        position = self.position
        return {
            "step": position.step,
            "epoch": position.epoch,  # where the next step's samples come from
            "epoch_position": position.batch,  # samples of this rank's share of that epoch consumed
            "identity": self.identity,
            "total_steps": self.total_steps,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "adversary": self.adversary.state_dict() if self.adversary else None,
            "rng": capture_rng(),
            "config": flatten(dataclasses.asdict(self.config)),
            "history": self.history.rows,
            "loss_window": self.window.state_dict(),
        }

    def _save(self, path) -> None:
        self.guard.verify(self.position.step, self._last_good())
        # A step can turn the weights non-finite without a non-finite loss (inf gradients
        # with clipping off); never let such weights replace the last good checkpoint.
        for name, parameter in self.model.named_parameters():
            check_finite(parameter.detach(), f"parameter {name}", self.position.step, self._last_good())
        if self.dist.is_main:
            save_state(path, self._state())
            self.history.write_csv(self.paths.plots)

    def _resume(self, path: Path, strict: bool) -> bool:
        """Continue from ``path`` if it is this run's (same identity, not past the end);
        return whether it did."""
        state = load_state(path, map_location=self.device)
        changed = identity_changes(state.get("identity"), self.identity)
        if not changed and state["step"] > self.total_steps:
            changed = [f"step={state['step']} (past this run's {self.total_steps} steps)"]
        if not changed:
            self._load(path, state)
            return True
        saved = ", ".join(changed)
        if strict:
            raise CheckpointError(f"{path}: written by another run ({saved}); restore those params, or train into a fresh --out folder")
        if self.dist.is_main:
            logger.warning("%s: starting afresh, not resuming: the checkpoint was written by another run (%s)", path, saved)
        return False

    def _load(self, path, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        previous_total = retarget_schedule(self.scheduler, self.total_steps)
        if previous_total is not None and self.dist.is_main:
            logger.warning(
                "%s: resuming a %d-step run as a %d-step run (train.epochs/max_steps changed); the learning-rate "
                "schedule now ends at step %d, lr %.3g from here",
                path,
                previous_total,
                self.total_steps,
                self.total_steps,
                self.scheduler.get_last_lr()[0],
            )
        if self.adversary is not None:
            self.adversary.load_state_dict(state["adversary"])
        step = state["step"]
        self.position = _Position(step, *self._epoch_of(step))
        if self.dist.is_main:
            logger.info("%s: resuming at step %d/%d", path, step, self.total_steps)
        self.history = LossHistory(state["history"])
        self.history.truncate(state["step"])
        self.window.load_state_dict(state["loss_window"], self.device)
        restore_rng(state["rng"])

    # ------------------------------------------------------------------ ending
    def _result(
        self, losses: dict[str, float], eval_result: EvalResult, stopped_early: bool = False, interrupted_by: signal.Signals | None = None
    ) -> TrainResult:
        return TrainResult(
            step=self.position.step,
            total_steps=self.total_steps,
            epoch=self._last_epoch(),
            losses=losses,
            eval_metrics=eval_result.metrics,
            paths=self.paths,
            model=self.model,
            model_name=self.config.model,
            model_kwargs=self.model_kwargs,
            history=self.history,
            stopped_early=stopped_early,
            interrupted_by=interrupted_by,
        )

    def _finish(self, losses: dict[str, float]) -> TrainResult:
        """Final evaluation and outputs (rank 0): model, metrics JSON, loss curve, previews."""
        eval_result = self._evaluate()
        result = self._result(losses or self._last_logged(), eval_result)
        if not self.dist.is_main:
            return result
        paths = self.paths
        save_checkpoint(
            paths.model_file,
            model_name=self.config.model,
            model_kwargs=self.model_kwargs,
            state_dict=self.model.state_dict(),
            step=result.step,
            manifest=self.config.manifest,
            policy=self.dataset.manifest.policy.value,
            losses=result.losses,
            eval_metrics=result.eval_metrics,
        )
        self.history.write_csv(paths.plots)
        if self.history.rows:
            self.history.write_png(paths.loss_png, title=self.config.run_name)
        paths.previews_png.parent.mkdir(parents=True, exist_ok=True)  # the report folder is a DVC out, previews or not
        if eval_result.previews:
            write_png(paths.previews_png, preview_grid(eval_result.previews, self.evaluation.grid_height))
        summary = {"step": result.step, "epoch": result.epoch, "loss": result.losses, "eval": result.eval_metrics}
        atomic_write_text(paths.metrics, json.dumps(summary, indent=2, sort_keys=True) + "\n")
        for callback in self.callbacks:
            if hasattr(callback, "on_end"):
                callback.on_end(result)
        return result

    def _epoch_of(self, step: int) -> tuple[int, int]:
        """(epoch, samples of it consumed) after ``step`` steps."""
        return divmod(step * self.config.batch_size, self.epoch_samples)

    def _last_epoch(self) -> int:
        """The epoch the last completed step's last sample belonged to."""
        return max(self.position.step * self.config.batch_size - 1, 0) // self.epoch_samples

    def _last_logged(self) -> dict[str, float]:
        """Loss means of the last logged row (a resumed run that had nothing left to do)."""
        if not self.history.rows:
            return {}
        return {key: value for key, value in self.history.rows[-1].items() if key.startswith("loss/")}
