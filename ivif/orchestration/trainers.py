"""Which training function a retrain may call: an allow-list, not an import path from the API.

A flow parameter names a trainer (``engine`` by default); anyone who can trigger runs on
the Prefect server can pick among the names, but only the operator who starts the
deployment decides what they mean: built-ins here, plus ``name=module:function`` entries
in the ``IVIF_RETRAIN_TRAINERS`` environment variable (comma-separated) of the serving
process. Tests use that to plug in trainers with known outcomes.

A trainer is called as ``trainer(params_path, overrides, out_dir)`` and returns a dict
with ``registered_model`` (e.g. ``ivif-cnn``) and ``version`` of the new candidate.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping

TRAINERS_ENV = "IVIF_RETRAIN_TRAINERS"
# ``flows.train.training_flow`` runs as a subflow, so the retrain's training shows in the UI.
BUILTIN_TRAINERS = {"engine": "flows.train:training_flow"}


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
