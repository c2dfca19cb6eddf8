"""Prefect flow: train the model named in params.yaml (thin over ivif.training.run).

The same engine as ``ivif train``; the trained ``model.pt`` is then registered
(:func:`ivif.registry.register.register_model_file`, alias ``candidate``) and retraining
flows read the version it returns. From the shell::

    python -m flows.train --params params.yaml [--resume] [train.epochs=3 ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from ivif.params import DEFAULT_PARAMS, load_params
from ivif.registry.register import train_and_register
from ivif.training.run import apply_overrides


@task(name="train-model", cache_policy=NO_CACHE)
def train_task(params: dict, root: str, out_dir: str | None, resume: bool) -> dict:
    outcome = train_and_register(params, root=root, out_dir=out_dir, resume=resume, progress=False)
    result, version = outcome.result, outcome.model_version
    if result.interrupted_by is not None:  # the task failed; its checkpoint is kept for resume=True
        raise RuntimeError(
            f"training was interrupted by {result.interrupted_by.name} at step {result.step}/{result.total_steps}; "
            f"{result.paths.last_state} holds that step: run the flow again with resume=True to continue"
        )
    return {
        "model": result.model_name,
        "step": result.step,
        "checkpoint": str(result.paths.model_file),
        "losses": result.losses,
        "eval": result.eval_metrics,
        "run_id": outcome.run_id,
        "registered_model": version.name if version is not None else None,
        "version": str(version.version) if version is not None else None,
    }


@flow(name="ivif-train")
def training_flow(
    params_path: str = DEFAULT_PARAMS,
    overrides: list[str] | None = None,
    out_dir: str | None = None,
    resume: bool = False,
) -> dict:
    """Train per ``params_path`` (plus ``section.key=value`` overrides); returns a summary
    with the MLflow run id and the registered ``ivif-<model>-<manifest>`` version."""
    path = Path(params_path)
    params = apply_overrides(load_params(path), overrides or [])
    return train_task(params, str(path.resolve().parent), out_dir, resume)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.train", description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE", help="params overrides, e.g. train.epochs=3")
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    parser.add_argument("--out", help="run folder (default: models/<model>-<manifest>)")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoints/last.pt")
    args = parser.parse_args(argv)
    summary = training_flow(args.params, args.overrides, args.out, args.resume)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
