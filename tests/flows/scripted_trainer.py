"""A retrain trainer with a known outcome, enabled through IVIF_RETRAIN_TRAINERS.

``scripted.quality`` in the (overridden) params picks it: ``strong`` / ``weak`` register
a contrast-fusion CNN as the new candidate; ``fail`` raises like a crashed training;
``slow`` records when it ran (``scripted.record``) and then fails, to observe overlap.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ivif_testkit import SMALL_CNN, STRONG, WEAK, contrast_fusion

from ivif.params import load_params, section
from ivif.registry import TrackingConfig, configure_tracking, log_and_register
from ivif.training.run import apply_overrides

SLOW_TRAINING_S = 1.5
BEHAVIOURS = {"strong": STRONG, "weak": WEAK}


class ScriptedTrainingError(RuntimeError):
    pass


def train(params_path: str, overrides: list[str], out_dir: str) -> dict:
    import mlflow

    params = apply_overrides(load_params(params_path), overrides)
    script = params["scripted"]
    quality = script["quality"]
    if quality == "slow":
        started = time.time()
        time.sleep(SLOW_TRAINING_S)
        with Path(script["record"]).open("a") as log:
            log.write(json.dumps([started, time.time()]) + "\n")
        raise ScriptedTrainingError("slow run done (fails on purpose)")
    if quality == "fail":
        raise ScriptedTrainingError("scripted training failure")
    configure_tracking(section(params, "tracking", TrackingConfig), base_dir=Path(params_path).parent)
    with mlflow.start_run(run_name=f"scripted-{quality}") as run:
        version = log_and_register(contrast_fusion(**BEHAVIOURS[quality], seed=script.get("seed", 0)), "cnn", run, model_kwargs=SMALL_CNN)
    return {"registered_model": version.name, "version": str(version.version), "run_id": run.info.run_id}
