"""Which project a retrain runs in, and what a run may change in it.

A retrain is bound to one project when its process starts (``python -m flows.retrain
serve`` or ``run``, from ``--params``): :func:`bind_project` records the params file in
the process environment, and flow runs (including those a served deployment starts, which
inherit the serving process's environment) read it back with :func:`bound_project`. No
flow parameter names a project, a params file or a folder.

A run may change only named keys (:data:`RUN_OVERRIDABLE`, training hyperparameters);
paths, DVC stage lists, the store, the evaluation split and the gate belong to the
project's ``params.yaml``. The operator who starts the process may allow more keys outside
the protected sections through ``IVIF_RETRAIN_OVERRIDES`` (comma-separated keys, ``x.*``
for a whole section), e.g. for a custom trainer's own section.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ENV = "IVIF_RETRAIN_PROJECT"
OVERRIDES_ENV = "IVIF_RETRAIN_OVERRIDES"

# train.<key> that a run parameter may set: hyperparameters, never paths or manifests.
RUN_OVERRIDABLE: tuple[str, ...] = tuple(
    f"train.{key}"
    for key in (
        "model", "epochs", "max_steps", "batch_size", "patch_size", "lr", "weight_decay",
        "schedule", "warmup_steps", "min_lr_ratio", "grad_clip", "amp", "channels_last",
        "compile", "num_workers", "seed", "device", "log_every", "eval_every", "eval_images",
        "ckpt_every", "loss.*", "gan.*",
    )
)  # fmt: skip
# Sections that only the project's params.yaml sets (paths, stage lists, store, split, gate).
PROTECTED_SECTIONS = ("retrain", "data", "shard", "pairs", "tracking", "evaluate", "gate")


class ProjectError(ValueError):
    """A retrain outside its bound project, or a run parameter it may not set."""


@dataclass(frozen=True)
class Project:
    """The project a retrain process serves: its ``params.yaml`` and root folder."""

    params: Path

    @property
    def root(self) -> Path:
        return self.params.parent


def bind_project(params_path: str | Path, environ: dict[str, str] | None = None) -> Project:
    """Bind this process (and the flow runs it starts) to the project of ``params_path``."""
    params = Path(params_path).resolve()
    if not params.is_file():
        raise ProjectError(f"{params_path}: no such params file; pass the project's params.yaml with --params")
    env = os.environ if environ is None else environ
    env[PROJECT_ENV] = str(params)
    return Project(params)


def bound_project(environ: Mapping[str, str] | None = None) -> Project:
    """The project this process was bound to; ProjectError if none was."""
    env = os.environ if environ is None else environ
    recorded = env.get(PROJECT_ENV)
    if not recorded:
        raise ProjectError(
            "this retrain process is bound to no project: start it with `python -m flows.retrain serve|run --params <project>/params.yaml`"
        )
    params = Path(recorded)
    if not params.is_file():
        raise ProjectError(f"the bound project's params file {params} is gone ({PROJECT_ENV}); serve the deployment again")
    return Project(params)


def allowed_override_keys(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """:data:`RUN_OVERRIDABLE` plus the operator's ``IVIF_RETRAIN_OVERRIDES`` keys."""
    env = os.environ if environ is None else environ
    extra = tuple(filter(None, (part.strip() for part in env.get(OVERRIDES_ENV, "").split(","))))
    for key in extra:
        if _section(key) in PROTECTED_SECTIONS:
            raise ProjectError(f"{OVERRIDES_ENV}: {key!r} is in a protected section {PROTECTED_SECTIONS}; set it in params.yaml")
    return RUN_OVERRIDABLE + extra


def check_run_overrides(overrides: Iterable[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """``overrides`` unchanged if every key is allowed; ProjectError naming the first that is not."""
    overrides = list(overrides)
    allowed = allowed_override_keys(environ)
    for override in overrides:
        key = override.partition("=")[0].strip()
        if not any(_matches(key, pattern) for pattern in allowed):
            hint = (
                "set it in the project's params.yaml"
                if _section(key) in PROTECTED_SECTIONS
                else f"an operator may allow it via {OVERRIDES_ENV}"
            )
            raise ProjectError(
                f"run parameter override {override!r}: {key!r} may not be changed by a run ({hint}); a run may change: {', '.join(allowed)}"
            )
    return overrides


def _section(key: str) -> str:
    return key.partition(".")[0]


def _matches(key: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        return key.startswith(prefix) and len(key) > len(prefix) and "*" not in key
    return key == pattern
