"""One real `dvc repro` of the whole pipeline on the embedded sample (tiny settings),
shared by the scenario tests: each copies it to its own folder and acts on the copy.

The project copy has its own git repository, DVC cache and MLflow sqlite store; the
stage commands run the installed ``ivif`` (this checkout) and record the modules they
import (``sitecustomize_dump.py``), which the deps and no-Prefect checks read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ivif_testkit import MLFLOW_URI_VARIABLES, template_store

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
# Small enough for two CPU cores; every stage still runs for real.
TEST_PARAMS = {
    "train": {
        "max_steps": 4,
        "batch_size": 2,
        "patch_size": 32,
        "ckpt_every": 2,
        "log_every": 2,
        "eval_images": 0,
        "warmup_steps": 0,
        "device": "cpu",
    },
    "evaluate": {"max_images": 1, "grid_images": 1, "grid_height": 32, "device": "cpu"},
}
RUN_DIR = Path("models") / "cnn-aptp"
STAGE_TIMEOUT_S = 600


@dataclass(frozen=True)
class Project:
    root: Path
    env: dict

    def run(self, *args: str, check: bool = True, timeout: float = STAGE_TIMEOUT_S) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(args), cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        return proc

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(str(BIN / "dvc"), *args, check=check)

    def ivif(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(str(BIN / "ivif"), *args, check=check)

    @property
    def run_dir(self) -> Path:
        return self.root / RUN_DIR

    @property
    def dump_dir(self) -> Path:
        return Path(self.env["IVIF_MODULE_DUMP"])

    @property
    def store(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    def client(self):
        import mlflow

        return mlflow.MlflowClient(self.store, registry_uri=self.store)

    def set_params(self, **sections: dict) -> None:
        params = yaml.safe_load((self.root / "params.yaml").read_text())
        for name, values in sections.items():
            params.setdefault(name, {}).update(values)
        (self.root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def stage_env(dump_dir: Path, site_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in MLFLOW_URI_VARIABLES}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(filter(None, [str(site_dir), env.get("PYTHONPATH", "")])),
        IVIF_MODULE_DUMP=str(dump_dir),
        OMP_NUM_THREADS="1",
        DVC_NO_ANALYTICS="1",
        DO_NOT_TRACK="1",
        TQDM_DISABLE="1",
    )
    return env


def copy_project(source: Project, dest: Path) -> Project:
    """A copy of a repro'd project (git, DVC cache, MLflow store), with its own dumps."""
    shutil.copytree(source.root, dest / "project", symlinks=True)
    dump_dir = dest / "modules"
    dump_dir.mkdir()
    return Project(dest / "project", {**source.env, "IVIF_MODULE_DUMP": str(dump_dir)})


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory, project_root) -> Project:
    """The whole pipeline repro'd once (read-only: scenarios copy it)."""
    base = tmp_path_factory.mktemp("pipeline")
    root = base / "project"
    root.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy2(project_root / name, root / name)
    shutil.copytree(project_root / "data" / "sample", root / "data" / "sample")
    shutil.copytree(project_root / "ivif", root / "ivif", ignore=shutil.ignore_patterns("__pycache__"))
    site_dir = base / "site"
    site_dir.mkdir()
    shutil.copy2(HERE / "sitecustomize_dump.py", site_dir / "sitecustomize.py")
    dump_dir = base / "modules"
    dump_dir.mkdir()
    shutil.copy(template_store(tmp_path_factory), root / "mlflow.db")  # skips ~10 s of schema migrations
    project = Project(root, stage_env(dump_dir, site_dir))
    project.set_params(**TEST_PARAMS)
    project.run("git", "init", "-q")
    project.dvc("init", "-q")
    project.dvc("config", "core.analytics", "false")
    project.dvc("repro")
    return project


@pytest.fixture
def project(pipeline, tmp_path) -> Project:
    """A private copy of the repro'd pipeline."""
    return copy_project(pipeline, tmp_path)
