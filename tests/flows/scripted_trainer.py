"""A retrain trainer with a known outcome, enabled through IVIF_RETRAIN_TRAINERS.

``scripted.quality`` in the (overridden) params picks it: ``strong`` / ``weak`` register
a contrast-fusion CNN as the new candidate; ``fail`` raises like a crashed training;
``slow`` records when it ran (``scripted.record``) and then fails, to observe overlap;
``block`` writes its pid to ``scripted.started`` and sleeps (a retrain to kill).
The operator allows the ``scripted.*`` overrides through IVIF_RETRAIN_OVERRIDES.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ivif_testkit import SMALL_CNN, STRONG, WEAK, contrast_fusion

from ivif.params import section
from ivif.registry import log_and_register
from ivif.tracking import TrackingConfig, configure_tracking

SLOW_TRAINING_S = 1.5
SCRIPTED_OVERRIDES = "scripted.*"  # IVIF_RETRAIN_OVERRIDES: the operator lets runs steer this trainer
BLOCK_S = 600  # far longer than any test waits: the test kills it
BEHAVIOURS = {"strong": STRONG, "weak": WEAK}


class ScriptedTrainingError(RuntimeError):
    pass


def train(params: dict, root: str, out_dir: str) -> dict:
    import mlflow

    script = params["scripted"]
    quality = script["quality"]
    if quality == "block":
        Path(script["started"]).write_text(str(os.getpid()))
        time.sleep(BLOCK_S)
    if quality == "slow":
        started = time.time()
        time.sleep(SLOW_TRAINING_S)
        with Path(script["record"]).open("a") as log:
            log.write(json.dumps([started, time.time()]) + "\n")
        raise ScriptedTrainingError("slow run done (fails on purpose)")
    if quality == "fail":
        raise ScriptedTrainingError("scripted training failure")
    configure_tracking(section(params, "tracking", TrackingConfig), base_dir=root)
    with mlflow.start_run(run_name=f"scripted-{quality}") as run:
        version = log_and_register(contrast_fusion(**BEHAVIOURS[quality], seed=script.get("seed", 0)), "cnn", run, model_kwargs=SMALL_CNN)
    return {"registered_model": version.name, "version": str(version.version), "run_id": run.info.run_id}
