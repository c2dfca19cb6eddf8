"""The README's two commands are the product's contract: keep them true."""

import re


def test_ci_runs_the_readme_test_command(project_root):
    readme = (project_root / "README.md").read_text()
    ci = (project_root / ".ci" / "run").read_text()
    commands = re.findall(r"^(bash scripts/\S+.*)$", readme, flags=re.M)
    assert "bash scripts/test.sh" in commands
    assert "bash scripts/setup.sh && . .venv/bin/activate && dvc repro" in commands
    assert re.search(r"^bash scripts/test\.sh\b", ci, flags=re.M), ".ci/run must call the README's test command"


def test_setup_pins_torch(project_root):
    pyproject = (project_root / "pyproject.toml").read_text()
    assert '"torch==2.13.0"' in pyproject
