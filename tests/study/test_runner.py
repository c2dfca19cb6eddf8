"""Cells run, fail in isolation, resume, and the report regenerates from its data files."""

from __future__ import annotations

import json
import shutil

from studykit import study_dict, write_study

from ivif.study.cell import cell_status, run_cell, run_paths_for
from ivif.study.cells import cell_dir, expand
from ivif.study.collect import collect, files_to_keep
from ivif.study.report import render
from ivif.study.runner import prepare
from ivif.study.spec import load_study


def _study(tmp_path, sample_dir, **overrides):
    return load_study(write_study(tmp_path / "s.yaml", study_dict(tmp_path, sample_dir, **overrides)))


def _half_trained(tmp_path, sample_dir, blocks, steps):
    """A one-cell study whose cell trained ``steps`` steps and stopped: (study, cell, run paths, result)."""
    from ivif.pairing.build import build_manifest
    from ivif.study.cell import manifest_plan, train_config_for
    from ivif.study.epochs import StudyTrainer

    study = _study(tmp_path, sample_dir, blocks=blocks)
    (cell,) = expand(study)
    prepare(study, [cell])
    paths = run_paths_for(study, cell)
    spec, min_epoch, _ = manifest_plan(study, cell)
    build_manifest(paths.manifest.name, spec, study.cache_root, paths.manifest.parent, progress=False)
    stopped = StudyTrainer(train_config_for(cell), paths, progress=False, min_epoch=min_epoch).fit(stop_after_steps=steps)
    return study, cell, paths, stopped


def test_failing_cell_is_isolated_and_listed(tmp_path, sample_dir):
    blocks = [
        {"name": "ok", "paradigms": ["sptp", "aptp"], "n": [2], "budget": "equal"},
        {"name": "impossible", "paradigms": ["aptp"], "n": [500], "budget": "equal"},  # more base pairs than the split has
    ]
    study = _study(tmp_path, sample_dir, blocks=blocks)
    cells = expand(study)
    prepare(study, cells)
    records = {c.config["n"]: run_cell(study, c) for c in cells if c.config["paradigm"] == "aptp"}
    records["sptp"] = run_cell(study, next(c for c in cells if c.config["paradigm"] == "sptp"))
    assert records[500]["status"] == "failed" and "subset 500" in records[500]["error"]
    assert records[2]["status"] == "ok" and records["sptp"]["status"] == "ok"
    statuses = {c.config["n"] if c.config["paradigm"] == "aptp" else "sptp": cell_status(study, c) for c in cells}
    assert statuses == {500: "failed", 2: "done", "sptp": "done"}
    # results: steps, timing and every metric of the finished cells
    done = records[2]
    assert done["steps"] == 6 and done["pairs_seen"] == 24 and done["s_per_step"] > 0 and done["patches_per_s"] > 0
    assert set(done["tests"]["sample"]["means"]) == {"EN", "SD", "VIF"} and done["tests"]["sample"]["images"] == 2
    report_dir = collect(study, cells)
    text = render(report_dir).read_text()
    assert "Failed or unfinished cells" in text and "subset 500" in text
    assert "**Partial report:** 1 of 3 cells have not finished (1 failed)" in text
    rows = (report_dir / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 3  # 3 cells x 1 test set
    assert sum(",failed," in r for r in rows) == 1

    # regeneration from the data files alone gives the same report.md
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("results.csv", "per_image.csv", "curves.csv", "study.json"):
        shutil.copy(report_dir / name, copy / name)
    shutil.copytree(report_dir / "gallery", copy / "gallery")
    assert render(copy).read_text() == text

    # a rerun skips finished cells, leaving their results byte-identical, and retries the failed one
    before = {c.id: (cell_dir(study, c) / "result.json").read_bytes() for c in cells if cell_status(study, c) == "done"}
    for cell in cells:
        record = run_cell(study, cell)
        assert record.get("skipped", False) == (cell.id in before)
    after = {cid: (cell_dir(study, c) / "result.json").read_bytes() for c in cells for cid in [c.id] if cid in before}
    assert after == before
    starts = {c.id: (cell_dir(study, c) / "train_starts.log").read_text().count("\n") for c in cells if c.id in before}
    assert set(starts.values()) == {1}

    # the kept files alone (no checkpoints, no models) carry the finished cells to a new machine
    kept = files_to_keep(study, cells)
    assert kept and not any(path.suffix == ".pt" for path in kept)
    assert {path.parent.name for path in kept if path.name == "result.json"} == {cell_dir(study, c).name for c in cells if c.id in before}
    moved = tmp_path / "moved"
    for path in kept:
        target = moved / path.relative_to(study.work_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    moved_file = write_study(
        tmp_path / "moved.yaml", study_dict(tmp_path, sample_dir, blocks=blocks, work_dir=str(moved), report_dir=str(tmp_path / "report2"))
    )
    elsewhere = load_study(moved_file)
    assert [c.id for c in expand(elsewhere)] == [c.id for c in cells]
    assert [cell_status(elsewhere, c) for c in cells] == ["done" if c.id in before else "pending" for c in cells]
    rows_elsewhere = (collect(elsewhere, cells) / "results.csv").read_text().splitlines()
    assert [r for r in rows_elsewhere if ",done," in r] == [r for r in rows if ",done," in r]
    assert (tmp_path / "report2" / "gallery" / "sample.png").is_file()


def test_half_trained_cell_resumes_from_checkpoint(tmp_path, sample_dir):
    blocks = [{"name": "one", "paradigms": ["sptp"], "n": [2], "budget": "equal"}]
    # SPTP on 2 pairs at batch 4: epochs are lengthened to a batch (RepeatedPairs)
    study, cell, paths, stopped = _half_trained(tmp_path, sample_dir, blocks, steps=4)
    assert stopped.step == 4 and paths.last_state.is_file() and cell_status(study, cell) == "partial"
    record = run_cell(study, cell)
    assert record["status"] == "ok" and record["resumed_from_step"] == 4 and record["steps"] == 6

    # the resumed run equals an uninterrupted one, bit for bit
    (tmp_path / "b").mkdir()
    straight = _study(tmp_path / "b", sample_dir, blocks=blocks)
    (cell_b,) = expand(straight)
    prepare(straight, [cell_b])
    assert run_cell(straight, cell_b)["status"] == "ok"
    import torch

    a = torch.load(paths.model_file, weights_only=True)["model"]
    b = torch.load(run_paths_for(straight, cell_b).model_file, weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((cell_dir(study, cell) / "result.json").read_text())["n_base"] == 2


def test_half_trained_cell_of_older_code_trains_afresh_instead_of_failing(tmp_path, sample_dir, monkeypatch):
    """Between sittings the code may change: the cell's checkpoint then belongs to another
    run identity, and the cell restarts from step 0 (and says so) rather than failing forever."""
    from ivif.training import engine

    blocks = [{"name": "one", "paradigms": ["aptp"], "n": [2], "budget": "equal"}]
    study, cell, _, stopped = _half_trained(tmp_path, sample_dir, blocks, steps=4)
    assert stopped.step == 4
    monkeypatch.setattr(engine, "code_digest", lambda *a, **k: "another version of the code")
    record = run_cell(study, cell)
    assert record["status"] == "ok" and record["resumed_from_step"] == 0 and record["steps"] == 6
    assert cell_status(study, cell) == "done"
