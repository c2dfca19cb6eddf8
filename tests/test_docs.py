"""The docs name the tests that keep each behaviour: every test they name exists."""

import re

import pytest

DOCS_NAMING_TESTS = ["docs/reliability.md"]


def _defined_tests(project_root) -> dict[str, str]:
    return {str(path.relative_to(project_root)): path.read_text() for path in (project_root / "tests").rglob("test_*.py")}


@pytest.mark.parametrize("doc", DOCS_NAMING_TESTS)
def test_every_test_a_doc_names_exists(project_root, doc):
    text = (project_root / doc).read_text()
    sources = _defined_tests(project_root)
    missing = []
    current = None  # "`file::a`, `::b`": a bare ::name belongs to the file named before it
    for ref in re.findall(r"`((?:tests/[^`\s]+)|(?:::\w+))`", text):
        path, _, name = ref.partition("::")
        if path:
            current = path
            if path not in sources and not (project_root / path).is_dir():
                missing.append(ref)
                continue
        name = name.split("[")[0]
        if name and f"def {name}(" not in sources.get(current, ""):
            missing.append(f"{current}::{name}")
    assert not missing, f"{doc} names tests that do not exist: {missing}"
    assert re.search(r"`tests/", text), f"{doc} names no tests"
