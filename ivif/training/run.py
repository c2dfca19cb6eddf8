"""Training from a params mapping: the one function behind ``ivif train`` and ``flows/train.py``.

It builds the config dataclasses from ``params.yaml`` once, checks that ``train.manifest``
is one of ``pairs.manifests``, derives the run's paths, attaches MLflow tracking (rank 0
only) and runs :class:`ivif.training.engine.Trainer`. Registering the model is a step
of its own (:func:`ivif.registry.register.register_model_file`, the DVC stage
``register``); :func:`ivif.registry.register.train_and_register` does it right after
training, for ad-hoc runs (the registry sits above training and calls down into it).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivif.params import ParamsError
from ivif.training.config import TrainConfig
from ivif.training.engine import Trainer, TrainResult
from ivif.training.paths import RunPaths, default_run_dir

# Numbers such as 1e-3 or 2E+5, which YAML 1.1 (PyYAML) reads as text.
_SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


@dataclass
class TrainOutcome:
    """The engine's result, its MLflow run and the registered version (None unless registered)."""

    result: TrainResult
    model_version: Any = None
    run_id: str | None = None
    tracking_uri: str | None = None


def parse_value(raw: str) -> Any:
    """An override value as YAML, except that ``1e-3``-style numbers (text to YAML 1.1) are floats."""
    value = yaml.safe_load(raw)
    if isinstance(value, str) and _SCIENTIFIC.fullmatch(value.strip()):
        return float(value)
    return value


def apply_overrides(params: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Copy of ``params`` with ``section.key=value`` overrides applied (values parsed as YAML).

    >>> apply_overrides({"train": {"lr": 0.1}}, ["train.lr=1e-3", "train.model=gan"])["train"]
    {'lr': 0.001, 'model': 'gan'}
    """
    result = copy.deepcopy(dict(params))
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key or "." not in key:
            raise ValueError(f"override {override!r} must look like section.key=value (e.g. train.lr=0.001)")
        *parents, leaf = key.split(".")
        node = result
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {override!r}: {part!r} is not a section")
        node[leaf] = parse_value(raw)
    return result


def is_main_process() -> bool:
    """Rank 0 under torchrun, or a plain single process."""
    return int(os.environ.get("RANK", "0")) == 0


def check_manifest(config: TrainConfig, pairs) -> None:
    """``train.manifest`` must name an entry of ``pairs.manifests`` (when any are listed)."""
    if pairs.manifests and config.manifest not in pairs.manifests:
        raise ParamsError(
            f"train.manifest: {config.manifest!r} is not a manifest in pairs.manifests; choose one of {sorted(pairs.manifests)}"
        )


def train_from_params(
    params: Mapping[str, Any],
    root: str | Path = ".",
    out_dir: str | Path | None = None,
    metrics: str | Path | None = None,
    plots: str | Path | None = None,
    resume: bool | str = False,
    track: bool = True,
    progress: bool = True,
    stop_after_steps: int | None = None,
) -> TrainOutcome:
    """Train the model that ``params['train']`` names on the manifest ``train.manifest``.

    Args:
        params: the whole params mapping (``data``, ``pairs``, ``train``, ``tracking``).
        root: project root; relative paths (and a relative sqlite store) resolve here.
        out_dir: run folder (default ``models/<model>-<manifest>``).
        metrics, plots: final metrics JSON and loss-curve CSV (default: inside ``out_dir``).
        resume: ``True``: continue from ``<out_dir>/checkpoints/last.pt`` (an error if it
            is another run's); ``"auto"``: continue it when it is this run's (same
            identity), else start afresh; ``False``: start afresh. A resumed run
            continues its MLflow run too.
        track: record the run in MLflow (its id in ``<out_dir>/mlflow_run.json``).
        progress: show a progress bar.
        stop_after_steps: save the state at this step and stop (interruption drills).
    """
    from ivif.data.config import DataConfig
    from ivif.evaluation import EvaluateConfig
    from ivif.pairing.config import PairsConfig
    from ivif.params import section
    from ivif.tracking.store import TrackingConfig

    config = section(params, "train", TrainConfig)
    data = section(params, "data", DataConfig)
    pairs = section(params, "pairs", PairsConfig)
    evaluation = section(params, "evaluate", EvaluateConfig)  # held-out eval exactly as the evaluate stage scores
    tracking = section(params, "tracking", TrackingConfig)
    check_manifest(config, pairs)
    out_dir = out_dir or default_run_dir(config)
    paths = RunPaths.for_run(data.cache_root, pairs.out_dir, config, out_dir, metrics, plots, root=root)

    if not (track and is_main_process()):
        result = Trainer(config, paths, progress=progress, evaluation=evaluation).fit(resume=resume, stop_after_steps=stop_after_steps)
        return TrainOutcome(result)

    from ivif.training.tracking import MlflowTracker

    trainer = Trainer(config, paths, progress=progress, evaluation=evaluation)
    tracker = MlflowTracker(params, config, tracking, root, paths.out_dir, paths.manifest, resume=bool(resume))
    trainer.callbacks.append(tracker)
    with tracker:
        result = trainer.fit(resume=resume, stop_after_steps=stop_after_steps)
        if result.interrupted_by is not None:
            tracker.end_status = "KILLED"
    return TrainOutcome(result, None, tracker.run_id, tracker.tracking_uri)
