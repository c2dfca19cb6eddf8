"""Problems 1-8 of issue 11 as scenarios on a real, repro'd pipeline (real DVC, MLflow
on sqlite): each would fail on the design where training registered the candidate,
promote gated the alias, and DVC replayed stages with side effects from its run-cache."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
import yaml

from ivif.data.digest import sha256_file
from ivif.models.checkpoint import load_checkpoint
from ivif.registry.register import SHA256_TAG

from .conftest import BIN, STAGE_TIMEOUT_S, Project

pytestmark = pytest.mark.slow
CHECKPOINT_POLL_S = 0.02


def registered(project: Project) -> dict:
    return json.loads((project.run_dir / "registered.json").read_text())


def promotion(project: Project) -> dict:
    return json.loads((project.root / "metrics" / "promotion.json").read_text())


def champion(project: Project, name: str = "ivif-cnn-aptp") -> str:
    return str(project.client().get_model_version_by_alias(name, "champion").version)


def test_the_pipeline_registers_and_promotes_exactly_the_model_it_built(pipeline):
    record = registered(pipeline)
    version = pipeline.client().get_model_version(record["name"], record["version"])
    assert record["name"] == "ivif-cnn-aptp" and version.tags[SHA256_TAG] == sha256_file(pipeline.run_dir / "model.pt")
    assert version.run_id == json.loads((pipeline.run_dir / "mlflow_run.json").read_text())["run_id"]
    assert promotion(pipeline)["candidate_version"] == record["version"] == champion(pipeline)


def _adhoc_candidate(project: Project, tmp_path: Path):
    """A model registered by hand under the pipeline's name: it takes the alias `candidate`."""
    from ivif_testkit import SMALL_CNN, STRONG, contrast_fusion

    from ivif.models.checkpoint import save_checkpoint
    from ivif.registry.register import register_model_file

    model = contrast_fusion(**STRONG)
    path = save_checkpoint(tmp_path / "adhoc.pt", model_name="cnn", model_kwargs=SMALL_CNN, state_dict=model.state_dict(), manifest="aptp")
    return register_model_file(path, tracking_uri=project.store)


def test_problem1_promote_gates_the_registered_pipeline_model_not_the_candidate_alias(project, tmp_path):
    adhoc = _adhoc_candidate(project, tmp_path)
    client = project.client()
    assert str(client.get_model_version_by_alias("ivif-cnn-aptp", "candidate").version) == str(adhoc.version)
    assert str(adhoc.version) != registered(project)["version"]
    client.delete_registered_model_alias("ivif-cnn-aptp", "champion")  # so that the gate has something to do
    project.set_params(gate={"tolerance": 0.03})  # promote runs again (and nothing else is rebuilt)
    out = project.dvc("repro").stdout
    assert "Running stage 'promote'" in out and "Running stage 'train'" not in out
    assert promotion(project)["candidate_version"] == registered(project)["version"] == champion(project)
    assert client.get_model_version("ivif-cnn-aptp", adhoc.version).tags.get("ivif.gate.decision") is None


def test_problem2_promote_is_never_replayed_from_the_run_cache(project):
    original = (project.root / "params.yaml").read_text()
    # the lock moves to other params without running anything (as after another experiment)...
    project.set_params(gate={"tolerance": 0.03})
    project.dvc("commit", "-f", "-q")
    # ...the registry moves on behind DVC's back (a champion removed by hand)...
    project.client().delete_registered_model_alias("ivif-cnn-aptp", "champion")
    # ...and the params go back to those the fixture ran (`git checkout params.yaml`)
    (project.root / "params.yaml").write_text(original)
    out = project.dvc("repro").stdout
    assert "Stage 'promote' is cached" not in out and "Running stage 'promote'" in out
    # promote ran and recorded what the registry holds now, not a replayed file
    assert promotion(project)["champion_before"] is None
    assert promotion(project)["champion_after"] == champion(project) == registered(project)["version"]


def _interrupt_train(project: Project) -> subprocess.Popen:
    """`dvc repro train` stopped by Ctrl-C (SIGINT to its process group) once train checkpointed."""
    state = project.run_dir / "checkpoints" / "last.pt"
    state.unlink()  # the fixture's run left one: wait for this run's
    process = subprocess.Popen(
        [str(BIN / "dvc"), "repro", "train"],
        cwd=project.root,
        env=project.env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + STAGE_TIMEOUT_S
    while not state.is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(CHECKPOINT_POLL_S)
    os.killpg(process.pid, signal.SIGINT)
    process.communicate(timeout=STAGE_TIMEOUT_S)
    return process


def test_problem3_ctrl_c_then_dvc_repro_resumes_and_ends_with_the_uninterrupted_weights(project):
    long_run = {"seed": 3, "max_steps": 40, "patch_size": 16, "ckpt_every": 2, "log_every": 2}
    project.set_params(train=long_run)
    stopped = _interrupt_train(project)
    assert stopped.returncode != 0
    stopped_at = torch.load(project.run_dir / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert 0 < stopped_at < long_run["max_steps"]
    out = project.dvc("repro", "train").stdout
    assert "Running stage 'train'" in out
    overrides = [f"train.{k}={v}" for k, v in long_run.items()]
    project.ivif("train", "--params", "params.yaml", "--out", "straight", "--no-track", *overrides)
    resumed, straight = load_checkpoint(project.run_dir / "model.pt"), load_checkpoint(project.root / "straight" / "model.pt")
    assert resumed["step"] == straight["step"] == long_run["max_steps"]
    assert all(torch.equal(resumed["model"][k], straight["model"][k]) for k in straight["model"])


def test_problem4_bad_params_fail_before_dvc_deletes_anything(project):
    """More bad values: tests/pipeline/test_params_check.py (the same check, in-process)."""
    kept = [project.run_dir / "model.pt", project.root / "metrics" / "train.json", project.root / "plots" / "train_loss.csv"]
    before = {path: path.read_bytes() for path in kept}
    client = project.client()
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs_before = len(client.search_runs(experiments))
    original = (project.root / "params.yaml").read_text()
    for train, message in (
        ({"manifest": "nope"}, "train.manifest: 'nope' is not a manifest in pairs.manifests; choose one of ['aptp', 'sptp', 'uptp']"),
        ({"model": "cnnn"}, "train.model: 'cnnn' is not a registered model; choose one of ['cnn', 'gan', 'transformer']"),
    ):
        (project.root / "params.yaml").write_text(original)
        project.set_params(train=train)
        failed = project.dvc("repro", check=False)
        assert failed.returncode != 0 and message in failed.stdout + failed.stderr
        assert "Running stage 'validate'" in failed.stdout and "Running stage 'train'" not in failed.stdout
    assert {path: path.read_bytes() for path in kept} == before
    assert len(client.search_runs(experiments)) == runs_before
    assert sorted(p.name for p in (project.root / "models").iterdir()) == ["cnn-aptp"]


def test_problem5_by_hand_never_clobbers_the_pipeline_and_lookups_create_no_store(project, tmp_path):
    tracked = [
        project.root / "metrics" / "evaluate.json",
        project.root / "plots" / "evaluate" / "per_image.csv",
        project.root / "plots" / "evaluate" / "grid.png",
    ]
    before = {path: path.read_bytes() for path in tracked}
    project.ivif("evaluate", "--params", "params.yaml", "--model", "models:/ivif-cnn-aptp@champion")
    assert {path: path.read_bytes() for path in tracked} == before
    (written,) = (project.root / "runs" / "evaluate").iterdir()
    assert json.loads((written / "metrics.json").read_text())["model"] == "models:/ivif-cnn-aptp@champion"
    # looking a model up from a folder without a store: a clear error, no mlflow.db
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sample = project.root / "data" / "sample"
    fuse = subprocess.run(
        [
            str(BIN / "ivif"),
            "fuse",
            "--model",
            "models:/ivif-cnn-aptp@champion",
            "--ir",
            str(sample / "ir"),
            "--vi",
            str(sample / "vi"),
            "--out",
            "out",
        ],
        cwd=elsewhere,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=STAGE_TIMEOUT_S,
    )
    assert fuse.returncode == 1 and f"MLflow store {elsewhere / 'mlflow.db'} does not exist" in fuse.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == []


def test_problem6_the_committed_lock_matches_the_code_and_params(project_root, tmp_path):
    """A fresh clone: `dvc status` reports no changed code, params or sample dependency
    (only the data and models it has not built yet)."""
    clone = tmp_path / "clone"
    for path in ("dvc.yaml", "dvc.lock", "params.yaml", "data/params.checked.json"):
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project_root / path, clone / path)
    for folder in ("ivif", "data/sample"):
        shutil.copytree(project_root / folder, clone / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    for args in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"]):
        subprocess.run(args, cwd=clone, env=env, check=True, timeout=120)
    proc = subprocess.run([str(BIN / "dvc"), "status", "--json"], cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    stale = {
        stage: changed
        for stage, changes in json.loads(proc.stdout or "{}").items()
        for change in changes
        if isinstance(change, dict)
        for changed in [{path: state for path, state in change.get("changed deps", {}).items() if state != "deleted"}]
        if changed
    }
    assert not stale, f"dvc.lock is stale (regenerate it with a full `dvc repro` in a clean clone): {stale}"


def _stage_commands(project: Project) -> dict[str, list[str]]:
    """Stage name -> its command line (from dvc.lock, where DVC wrote them resolved)."""
    lock = yaml.safe_load((project.root / "dvc.lock").read_text())
    return {name: shlex.split(stage["cmd"]) for name, stage in lock["stages"].items()}


def _stage_runs(project: Project) -> dict[str, dict]:
    commands = {tuple(cmd[1:]): name for name, cmd in _stage_commands(project).items()}
    runs = {}
    for dump in project.dump_dir.glob("*.json"):
        record = json.loads(dump.read_text())
        name = commands.get(tuple(record["argv"][1:]))
        if name:
            runs[name] = record
    return runs


def test_problem7_stage_deps_cover_every_ivif_module_the_stage_runs(pipeline, project_root):
    lock = yaml.safe_load((pipeline.root / "dvc.lock").read_text())
    runs = _stage_runs(pipeline)
    assert set(runs) == set(lock["stages"]), f"stages without a module record: {set(lock['stages']) - set(runs)}"
    package = project_root / "ivif"
    for name, record in runs.items():
        deps = [dep["path"] for dep in lock["stages"][name]["deps"]]
        for module_file in record["ivif"]:
            relative = Path("ivif") / Path(module_file).resolve().relative_to(package.resolve())
            covered = any(relative == Path(dep) or Path(dep) in relative.parents for dep in deps)
            assert covered, f"stage {name} runs {relative}, which none of its deps covers: add it to dvc.yaml"


def test_problem8_no_stage_imports_prefect(pipeline):
    runs = _stage_runs(pipeline)
    assert "pairs" in runs and runs["pairs"]["argv"][1:3] == ["pairs", "build"]
    assert {name: record["prefect"][:3] for name, record in runs.items() if record["prefect"]} == {}


TNO_PAIRS = 42


def test_your_own_dataset_is_scored_whole_through_dvc_repro(project, shared):
    """Issue 11: `ivif data fetch mytno --from DIR` (the fetch stage, via data.import_from)
    plus params overrides, then `dvc repro`: the pipeline's model is scored on all 42 TNO pairs."""
    project.set_params(
        data={"datasets": ["sample", "mytno"], "import_from": {"mytno": str(shared / "data" / "tno42")}},
        shard={"test_fractions": {"mytno": 1.0}},
        evaluate={"dataset": "mytno", "max_images": None},
    )
    repro = project.dvc("repro", "evaluate")
    assert "Running stage 'fetch@mytno'" in repro.stdout and "Running stage 'cache@mytno'" in repro.stdout
    rows = (project.root / "plots" / "evaluate" / "per_image.csv").read_text().splitlines()
    assert len(rows) == 1 + TNO_PAIRS
    summary = json.loads((project.root / "metrics" / "evaluate.json").read_text())
    assert summary["data"] == "data/cache/mytno/test" and summary["images"] == TNO_PAIRS
