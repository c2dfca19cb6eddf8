"""Prefect flow: scheduled retraining behind a champion gate.

One run: refresh the data (``dvc repro`` of the data stages, retried), rebuild the
pairing manifests, train a candidate (registered as ``ivif-<model>@candidate``), evaluate
it and the current champion on the same held-out split, and move ``champion`` only if
the gate in ``params.yaml`` passes. A failure anywhere leaves the champion untouched;
a Prefect global concurrency limit keeps two retrains from overlapping.

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
from ivif.orchestration.dvc import repro
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
def retrain_flow(
    params_path: str = DEFAULT_PARAMS,
    overrides: list[str] | None = None,
    trainer: str = "engine",
    refresh: bool = True,
) -> dict:
    """Retrain ``train.model`` and gate it against the champion; returns the gate summary.

    Args:
        params_path: the project's ``params.yaml`` (its folder is the DVC project root).
        overrides: ``section.key=value`` changes for this run (e.g. ``train.max_steps=500``).
        trainer: a name from the trainer allow-list (:mod:`ivif.orchestration.trainers`).
        refresh: re-run the DVC data and manifest stages first.
    """
    from prefect.concurrency.sync import concurrency

    logger = get_run_logger()
    path = Path(params_path).resolve()
    root = path.parent
    params = apply_overrides(load_params(path), overrides or [])
    config = section(params, "retrain", RetrainConfig)
    train_config = section(params, "train", TrainConfig)
    train = resolve_trainer(trainer)  # an unknown trainer fails before any work
    ensure_concurrency_limit(config.concurrency_limit)
    with concurrency(config.concurrency_limit, occupy=CONCURRENCY_SLOTS, timeout_seconds=config.lock_timeout_s, strict=True):
        if refresh:
            retried = refresh_data.with_options(retries=config.fetch_retries, retry_delay_seconds=config.retry_delay_s)
            retried(list(config.data_stages), str(root))
            make_manifests(list(config.manifest_stages), str(root))
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        out_dir = root / config.out_dir / f"{train_config.run_name}-{stamp}"
        candidate = train(str(path), list(overrides or []), str(out_dir))
        if not candidate.get("version"):
            raise RuntimeError(f"trainer {trainer!r} registered no model version (got {candidate}); champion left as it was")
        logger.info("candidate %s version %s", candidate["registered_model"], candidate["version"])
        summary = gate_task(candidate["registered_model"], str(held_out_split(params)), params, str(root), candidate["version"])
    logger.info("gate: %s", summary["reason"])
    return summary


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
    print(f"schedule {cron!r} ({timezone}); next runs: {upcoming}")
    if args.dry_run:
        return 0
    parameters = {"params_path": str(Path(args.params).resolve()), "overrides": args.overrides, "trainer": args.trainer, "refresh": not args.no_refresh}
    # global_limit: the deployment itself never runs twice at once (later runs wait);
    # the flow's own concurrency slot also covers ad-hoc `run`s and other deployments.
    retrain_flow.serve(name=args.name, schedules=[schedule], parameters=parameters, global_limit=CONCURRENCY_SLOTS)
    return 0


def run_once(args) -> int:
    summary = retrain_flow(args.params, args.overrides, args.trainer, not args.no_refresh)
    print(summary["reason"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.retrain", description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, func, help_text in (("serve", serve, "serve the scheduled deployment (needs a Prefect server)"), ("run", run_once, "retrain once, now")):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE", help="params overrides for every run")
        sub.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
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
