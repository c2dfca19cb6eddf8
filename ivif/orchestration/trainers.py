"""Which training function a retrain may call: an allow-list, not an import path from the API.

A flow parameter names a trainer (``engine`` by default); anyone who can trigger runs on
the Prefect server can pick among the names, but only the operator who starts the
deployment decides what they mean: built-ins here, plus ``name=module:function`` entries
in the ``IVIF_RETRAIN_TRAINERS`` environment variable (comma-separated) of the serving
process. Tests use that to plug in trainers with known outcomes.

A trainer is called as ``trainer(params, root, out_dir)`` (the project's params with the
run's allowed overrides applied, the bound project root, the run folder) and returns a dict
with ``checkpoint`` (the model file it wrote) and ``run_id``; the flow's register task then
registers exactly that file. A trainer that registers its own model returns
``registered_model`` and ``version`` as well.
The built-in ``engine`` is :func:`engine_trainer`; ``flows/retrain.py`` runs whichever is
chosen as a Prefect task.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

TRAINERS_ENV = "IVIF_RETRAIN_TRAINERS"
BUILTIN_TRAINERS = {"engine": "ivif.orchestration.trainers:engine_trainer"}


def engine_trainer(params: Mapping[str, Any], root: str | Path, out_dir: str | Path) -> dict:
    """ivif's training engine (:func:`ivif.training.run.train_from_params`), tracked in MLflow.

    Raises RuntimeError if a signal interrupted the training (its checkpoint is kept).
    """
    from ivif.training.run import train_from_params

    outcome = train_from_params(params, root=root, out_dir=out_dir, progress=False)
    result = outcome.result
    if result.interrupted_by is not None:
        raise RuntimeError(
            f"training was interrupted by {result.interrupted_by.name} at step {result.step}/{result.total_steps}; {result.paths.last_state} holds that step"
        )
    return {
        "model": result.model_name,
        "step": result.step,
        "checkpoint": str(result.paths.model_file),
        "run_id": outcome.run_id,
    }


def allowed_trainers(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Trainer name -> ``module:function``: built-ins plus the operator's additions."""
    env = os.environ if environ is None else environ
    trainers = dict(BUILTIN_TRAINERS)
    for entry in filter(None, (part.strip() for part in env.get(TRAINERS_ENV, "").split(","))):
        name, sep, target = entry.partition("=")
        if not sep or ":" not in target:
            raise ValueError(f"{TRAINERS_ENV}: entry {entry!r} must look like name=module:function")
        trainers[name.strip()] = target.strip()
    return trainers


def resolve_trainer(name: str, environ: Mapping[str, str] | None = None) -> Callable:
    """The trainer function called ``name``; ValueError naming the allowed ones otherwise."""
    trainers = allowed_trainers(environ)
    if name not in trainers:
        raise ValueError(f"unknown trainer {name!r}; allowed: {sorted(trainers)} (operators add more via {TRAINERS_ENV})")
    module_name, _, function = trainers[name].partition(":")
    return getattr(importlib.import_module(module_name), function)
