"""DVC targets of a retrain: only stages of the project's own top-level dvc.yaml."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from ivif.orchestration.dvc import StageError, check_targets, project_stages


@pytest.fixture
def dvc_project(tmp_path):
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"datasets": ["sample", "tno"]}))
    stages = {"stages": {"fetch": {"foreach": "${datasets}", "do": {"cmd": "echo ${item}"}}, "pairs": {"cmd": "echo pairs"}}}
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(stages))
    planted = tmp_path / "data" / "raw" / "tno"
    planted.mkdir(parents=True)
    (planted / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"pwn": {"cmd": "touch PWNED"}}}))
    return tmp_path


def test_stage_names_include_foreach_expansions(dvc_project):
    assert project_stages(dvc_project) == {"fetch", "fetch@sample", "fetch@tno", "pairs"}
    assert check_targets(["fetch@tno", "pairs", "fetch"], dvc_project) == ["fetch@tno", "pairs", "fetch"]


@pytest.mark.parametrize("target", ["data/raw/tno/dvc.yaml:pwn", "pwn", "--force", "fetch@nope", "dvc.yaml:pairs"])
def test_other_targets_are_refused(dvc_project, target):
    with pytest.raises(StageError, match=f"DVC target {target!r} is not a stage of"):
        check_targets([target], dvc_project)


def test_a_project_without_pipeline_refuses_any_target(tmp_path):
    assert check_targets([], tmp_path) == []
    with pytest.raises(StageError, match="no pipeline in the bound project"):
        check_targets(["fetch"], tmp_path)
