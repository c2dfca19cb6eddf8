"""Prefect flow: scheduled retraining behind a champion gate.

One run: refresh the data (``dvc repro`` of the data stages, retried), rebuild the
pairing manifests, train a candidate (registered as ``ivif-<model>@candidate``), evaluate
it and the current champion on the same held-out split, and move ``champion`` only if
the gate in ``params.yaml`` passes. A failure anywhere leaves the champion untouched;
a Prefect global concurrency limit keeps two retrains from overlapping, and its slot is
freed when a retrain's process dies (:mod:`ivif.orchestration.lease`).

Runs are bound to the project of ``--params`` when ``serve`` or ``run`` starts; a run may
change only training hyperparameters (:mod:`ivif.orchestration.project`), and DVC targets
must be stages of that project's own ``dvc.yaml``.

    prefect server start                                   # terminal 1
    python -m flows.retrain serve --cron "0 3 * * *"       # terminal 2: the deployment
    python -m flows.retrain serve --cron "0 3 * * *" --dry-run   # validate, show next runs
    python -m flows.retrain run                            # one run now, no server needed
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.evaluate import gate_task, held_out_split
from ivif.orchestration.config import RetrainConfig
from ivif.orchestration.dvc import StageError, check_targets, repro
from ivif.orchestration.lease import SlotTimeout, held_slot
from ivif.orchestration.project import (
    ProjectError,
    bind_project,
    bound_project,
    check_run_overrides,
)
from ivif.orchestration.schedule import ScheduleError, cron_schedule, next_runs
from ivif.orchestration.trainers import resolve_trainer
from ivif.params import DEFAULT_PARAMS, load_params, section
from ivif.training.config import TrainConfig
from ivif.training.run import apply_overrides

DEPLOYMENT_NAME = "ivif-retrain"
CONCURRENCY_SLOTS = 1  # one retrain at a time
NEXT_RUNS_SHOWN = 3


@task(name="refresh-data", cache_policy=NO_CACHE)
def refresh_data(stages: list[str], root: str) -> str:
    """``dvc repro`` the data stages (fetching is the network step: retried by the flow)."""
    return repro(stages, root)


@task(name="make-manifests", cache_policy=NO_CACHE)
def make_manifests(stages: list[str], root: str) -> str:
    return repro(stages, root)


@task(name="train", cache_policy=NO_CACHE)
def train_candidate(trainer: str, params: dict, root: str, out_dir: str) -> dict:
    """Run the allowed trainer called ``trainer``; returns its summary (model, run id, version)."""
    return resolve_trainer(trainer)(params, root, out_dir)


@task(name="register", cache_policy=NO_CACHE)
def register_candidate(trained: dict, params: dict, root: str) -> tuple[str, str]:
    """Register exactly the model file the trainer wrote; return its ``(name, version)``.

    The version is passed on to the gate explicitly (the ``candidate`` alias is for users,
    never the channel between steps). A trainer that registered its own model (an
    operator's plug-in) returns ``registered_model`` and ``version`` itself.
    """
    if trained.get("version") and trained.get("registered_model"):
        return trained["registered_model"], str(trained["version"])
    checkpoint = trained.get("checkpoint")
    if not checkpoint or not Path(checkpoint).is_file():
        raise RuntimeError(f"the trainer wrote no model file to register (got {trained}); champion left as it was")
    from ivif.registry.register import register_model_file
    from ivif.tracking.store import TrackingConfig, configure_tracking

    store = configure_tracking(section(params, "tracking", TrackingConfig), base_dir=root)
    version = register_model_file(checkpoint, run_id=trained.get("run_id"), tracking_uri=store)
    return version.name, str(version.version)


def ensure_concurrency_limit(name: str, slots: int = CONCURRENCY_SLOTS) -> None:
    """Create the global concurrency limit on first use (an operator may tune it later)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
            except ObjectAlreadyExists:
                pass  # created by a retrain starting at the same moment


@flow(name="ivif-retrain")
def retrain_flow(overrides: list[str] | None = None, trainer: str = "engine", refresh: bool = True, params_path: str | None = None) -> dict:
    """Retrain ``train.model`` in the bound project and gate it against the champion;
    returns the gate summary.

    The project (its ``params.yaml`` and DVC root) is the one this process was bound to
    (:func:`ivif.orchestration.project.bind_project`, done by ``serve`` and ``run``); no
    parameter chooses another. Everything is checked before anything runs.

    Args:
        overrides: ``train.key=value`` changes for this run, from the allow-list
            (:data:`ivif.orchestration.project.RUN_OVERRIDABLE`).
        trainer: a name from the trainer allow-list (:mod:`ivif.orchestration.trainers`).
        refresh: re-run the DVC data and manifest stages first.
        params_path: no longer accepted (runs used to name their project with it); any
            value fails the run before anything runs.
    """
    logger = get_run_logger()
    if params_path is not None:
        raise ProjectError(
            f"params_path={params_path!r}: a run cannot choose its project; this deployment runs in the project it was served from (serve it from another project's --params instead)"
        )
    project = bound_project()
    root = project.root
    overrides = check_run_overrides(overrides or [])
    params = apply_overrides(load_params(project.params), overrides)
    config = section(params, "retrain", RetrainConfig)
    train_config = section(params, "train", TrainConfig)
    resolve_trainer(trainer)  # an unknown trainer fails before any work
    data_stages = check_targets(config.data_stages, root) if refresh else []
    manifest_stages = check_targets(config.manifest_stages, root) if refresh else []
    ensure_concurrency_limit(config.concurrency_limit)
    with held_slot(
        config.concurrency_limit, root / config.out_dir, slots=CONCURRENCY_SLOTS, timeout_s=config.lock_timeout_s, lease_s=config.lease_s
    ):
        if refresh:
            retried = refresh_data.with_options(retries=config.fetch_retries, retry_delay_seconds=config.retry_delay_s)
            retried(data_stages, str(root))
            make_manifests(manifest_stages, str(root))
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        out_dir = root / config.out_dir / f"{train_config.run_name}-{stamp}"
        trained = train_candidate(trainer, params, str(root), str(out_dir))
        name, version = register_candidate(trained, params, str(root))
        logger.info("candidate %s version %s", name, version)
        summary = gate_task(name, str(held_out_split(params)), params, str(root), version)
    logger.info("gate: %s", summary["reason"])
    return summary


def bound_or_exit(params: str):
    try:
        return bind_project(params)
    except ProjectError as exc:
        raise SystemExit(f"python -m flows.retrain: {exc}") from None


def allowed_or_exit(overrides: list[str]) -> list[str]:
    try:
        return check_run_overrides(overrides)
    except ProjectError as exc:
        raise SystemExit(f"python -m flows.retrain: {exc}") from None


def validated_schedule(cron: str, timezone: str):
    try:
        return cron_schedule(cron, timezone)
    except ScheduleError as exc:
        raise SystemExit(f"python -m flows.retrain: {exc}") from None


def serve(args) -> int:
    config = section(load_params(args.params), "retrain", RetrainConfig)
    cron, timezone = args.cron or config.cron, args.timezone or config.timezone
    schedule = validated_schedule(cron, timezone)
    upcoming = ", ".join(t.isoformat() for t in next_runs(cron, timezone, NEXT_RUNS_SHOWN))
    overrides = allowed_or_exit(args.overrides)
    print(f"schedule {cron!r} ({timezone}); next runs: {upcoming}")
    if args.dry_run:
        return 0
    bound_or_exit(args.params)  # flow runs of this deployment inherit the binding
    parameters = {"overrides": overrides, "trainer": args.trainer, "refresh": not args.no_refresh}
    # global_limit: the deployment itself never runs twice at once (later runs wait);
    # the flow's own concurrency slot also covers ad-hoc `run`s and other deployments.
    retrain_flow.serve(name=args.name, schedules=[schedule], parameters=parameters, global_limit=CONCURRENCY_SLOTS)
    return 0


def run_once(args) -> int:
    overrides = allowed_or_exit(args.overrides)  # refused before any Prefect API starts
    bound_or_exit(args.params)
    try:
        summary = retrain_flow(overrides, args.trainer, not args.no_refresh)
    except (ProjectError, StageError, SlotTimeout) as exc:
        raise SystemExit(f"python -m flows.retrain: {exc}") from None
    print(summary["reason"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.retrain", description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, func, help_text in (
        ("serve", serve, "serve the scheduled deployment (needs a Prefect server)"),
        ("run", run_once, "retrain once, now"),
    ):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument(
            "overrides", nargs="*", metavar="train.KEY=VALUE", help="allowed params overrides (README: what a run parameter may change)"
        )
        sub.add_argument(
            "--params",
            default=DEFAULT_PARAMS,
            help="the project's params file; its folder is the project the runs are bound to (default: params.yaml)",
        )
        sub.add_argument("--trainer", default="engine", help="trainer name (default: engine, ivif's training engine)")
        sub.add_argument("--no-refresh", action="store_true", help="skip the DVC data and manifest stages")
        sub.set_defaults(func=func)
    serve_parser = actions.choices["serve"]
    serve_parser.add_argument("--cron", help='cron schedule, e.g. "0 3 * * *" (default: retrain.cron)')
    serve_parser.add_argument("--timezone", help="time zone of the schedule (default: retrain.timezone)")
    serve_parser.add_argument("--name", default=DEPLOYMENT_NAME, help=f"deployment name (default: {DEPLOYMENT_NAME})")
    serve_parser.add_argument("--dry-run", action="store_true", help="validate the schedule, print the next runs, exit")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
