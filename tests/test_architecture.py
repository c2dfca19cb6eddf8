"""The README's architecture is the one lint-imports enforces, and its owners exist."""

from __future__ import annotations

import importlib
import re
import tomllib


def _section(readme: str, title: str) -> str:
    start = readme.index(f"## {title}\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def test_readme_layers_are_the_import_linter_layers_in_order(project_root):
    config = tomllib.loads((project_root / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    contract = [re.split(r"\s*[|:]\s*", layer) for layer in layers]
    diagram = _section((project_root / "README.md").read_text(), "Architecture").split("```")[1]
    drawn = [re.findall(r"ivif\.[a-z_.]+|ivif/cli", line) for line in diagram.strip().splitlines()]
    drawn = [[m.replace("/", ".") for m in row] for row in drawn]
    assert drawn == contract


def test_every_owner_in_the_table_exists(project_root):
    table = _section((project_root / "README.md").read_text(), "Architecture").split("| fact | owner |")[1]
    owners = re.findall(r"\| `(ivif(?:\.[a-z_]+)+)`", table)
    assert len(owners) >= 6
    for dotted in owners:
        try:
            importlib.import_module(dotted)
        except ModuleNotFoundError:  # a function or constant of a module
            module, _, name = dotted.rpartition(".")
            assert hasattr(importlib.import_module(module), name), dotted
