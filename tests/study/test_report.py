"""report.md's plain words from hand-made data files: the flatness check, iterations against
diversity (Q2), significance in Q3, the data multiplier's interval, Q5, and the runner's ETA."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from ivif.study.collect import AXES, CURVES, NUMBERS, PER_IMAGE, RESULTS, STUDY_JSON
from ivif.study.report import late_share, render
from ivif.study.runner import Progress
from ivif.study.stats import data_multiplier

METRICS = ["VIF"]
IMAGES = [f"img{i:02d}" for i in range(12)]


def _cell(cell_id: str, paradigm: str, budget: str, steps: int, scores: list[float], ir: str = "a", vis: str = "a",
          model: str = "cnn", n: str = "8") -> dict:  # fmt: skip
    return {"cell_id": cell_id, "paradigm": paradigm, "budget": budget, "steps": steps, "scores": scores, "ir": ir, "vis": vis,
            "model": model, "n": n}  # fmt: skip


def _write_folder(folder: Path, cells: list[dict], curves: dict[str, list[float]] | None = None) -> Path:
    """A report folder as ivif.study.collect writes it: one test set `a`, model cnn, N=8, seed 0."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = ["cell_id", "short_id", "label", "blocks", *AXES, "status", "error", "test_set", *NUMBERS, *METRICS]
    with (folder / RESULTS).open("w", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        for c in cells:
            label = f"{c['model']}/{c['paradigm']} n={c['n']} s=0 {c['budget']}"
            writer.writerow({"cell_id": c["cell_id"], "short_id": c["cell_id"][:12], "label": label, "blocks": "b",
                             "kind": "train", "model": c["model"], "paradigm": c["paradigm"], "n": c["n"], "seed": "0",
                             "budget": c["budget"], "ir": c["ir"], "vis": c["vis"], "constraint": "none", "ir_group": "",
                             "vis_group": "", "status": "done", "error": "", "test_set": "a", "commit": "abc1234",
                             "n_base": int(c["n"]), "steps": c["steps"], "batch_size": 8, "pairs_seen": 8 * c["steps"],
                             "pairs_per_epoch": 8, "wall_s": 1.0, "train_s": 1.0, "s_per_step": 0.1, "patches_per_s": 80.0,
                             "manifest_build_s": 0.01, "eval_s": 0.1, "final_loss": 0.1,
                             "VIF": float(np.mean(c["scores"]))})  # fmt: skip
    with (folder / PER_IMAGE).open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["cell_id", "test_set", "image", *METRICS])
        for c in cells:
            writer.writerows([c["cell_id"], "a", name, score] for name, score in zip(IMAGES, c["scores"]))
    with (folder / CURVES).open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["cell_id", "step", "loss_total"])
        for cell_id, losses in (curves or {}).items():
            steps = next(c["steps"] for c in cells if c["cell_id"] == cell_id)
            every = steps // len(losses)
            writer.writerows([cell_id, every * (i + 1), loss] for i, loss in enumerate(losses))
    meta = {"name": "t", "study_file": "studies/t.yaml", "report_dir": "reports/t", "commit": "abc1234", "metrics": METRICS,
            "primary_metric": "VIF", "control_budget": "equal", "train_dataset": "a", "test_sets": ["a"],
            "ood_test_sets": []}  # fmt: skip
    (folder / STUDY_JSON).write_text(json.dumps(meta))
    return folder


def _scores(base: float, step: float = 0.0) -> list[float]:
    """Per-image scores around ``base``: an image-specific offset plus ``step`` (a paired shift)."""
    return [base + 0.01 * (i % 5) + step for i in range(len(IMAGES))]


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


# ------------------------------------------------------------------- late_share
def test_late_share_is_zero_for_a_curve_flat_before_mid_training():
    losses = np.r_[np.linspace(1.0, 0.1, 8), np.full(12, 0.1)]
    assert late_share(losses) == pytest.approx(0.0, abs=1e-12)


def test_late_share_of_a_steady_linear_fall_is_about_a_half():
    losses = np.linspace(1.0, 0.0, 101)
    assert late_share(losses) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("losses", [[1.0, 0.5, 0.2], [0.1, 0.2, 0.3, 0.4, 0.5]], ids=["too-short", "rising"])
def test_late_share_is_nan_when_there_is_no_drop_to_share(losses):
    assert math.isnan(late_share(np.array(losses)))


def test_flatness_check_names_the_steepest_curve_and_the_longer_run(tmp_path):
    flat = list(np.r_[np.linspace(1.0, 0.1, 8), np.full(12, 0.1)])
    steep = list(np.linspace(1.0, 0.1, 20))
    long = flat + list(np.full(20, 0.05))  # 2000 steps: halves the loss after step 1000
    cells = [_cell("s" * 64, "sptp", "equal", 1000, _scores(0.5)), _cell("a" * 64, "aptp", "equal", 1000, _scores(0.5)),
             _cell("l" * 64, "sptp", "long", 2000, _scores(0.5))]  # fmt: skip
    folder = _write_folder(tmp_path / "r", cells, {"s" * 64: flat, "a" * 64: steep, "l" * 64: long})
    text = _section(render(folder).read_text(), "## Training curves")
    assert "1 of 2 cells under 10 %" in text
    assert f"largest {100 * late_share(np.array(steep)):.2f} % (cnn/aptp n=8 s=0 equal)" in text
    assert "cnn/sptp n=8 s=0 long (2000 steps): the loss fell a further 50.00 % after step 1000" in text


# ----------------------------------------------------------------------- Q2, Q3
def test_q2_weighs_more_sptp_steps_against_aptp_at_equal_steps(tmp_path):
    cells = [_cell("s" * 64, "sptp", "equal", 500, _scores(0.50)), _cell("a" * 64, "aptp", "equal", 500, _scores(0.52)),
             _cell("l" * 64, "sptp", "long", 2000, _scores(0.55))]  # fmt: skip
    text = _section(render(_write_folder(tmp_path / "r", cells)).read_text(), "## Q2")
    assert "4.00× the steps on SPTP (`long`) adds 0.0500 VIF, more than APTP's diversity adds at equal steps (0.0200)" in text


def test_q3_says_not_significant_unless_the_paired_test_is(tmp_path):
    sptp = _cell("s" * 64, "sptp", "equal", 500, _scores(0.50))
    shifted = _cell("c" * 64, "aptp", "equal", 500, _scores(0.50, step=0.02), vis="b")  # every image higher
    text = _section(render(_write_folder(tmp_path / "r1", [sptp, shifted])).read_text(), "## Q3")
    assert "APTP a×b beats SPTP on a" in text
    mixed = _cell("c" * 64, "aptp", "equal", 500, [s + (0.002 if i % 2 else -0.001) for i, s in enumerate(_scores(0.50))], vis="b")
    text = _section(render(_write_folder(tmp_path / "r2", [sptp, mixed])).read_text(), "## Q3")
    assert "APTP a×b is above (not significant) SPTP on a" in text


# ------------------------------------------------------------------------- ETA
def test_eta_counts_only_cells_run_in_this_sitting():
    lines: list[str] = []
    progress = Progress(total=4, emit=lines.append)
    progress.finished({"label": "one", "skipped": True, "wall_s": 300.0})
    progress.finished({"label": "two", "skipped": True, "wall_s": 300.0})
    assert lines[-1].endswith("ETA unknown")
    progress.started -= 100  # the third cell, run now, took 100 s
    progress.finished({"label": "three", "status": "done", "wall_s": 100.0})
    eta = lines[-1].rsplit("ETA ", 1)[1]
    assert eta in ("0h01m40s", "0h01m41s")  # one cell left at 100 s per cell run


def test_cells_trained_on_another_dataset_stay_out_of_q1_and_are_q3s_sptp_on_b(tmp_path):
    cells = [_cell("s" * 64, "sptp", "equal", 500, _scores(0.50)), _cell("a" * 64, "aptp", "equal", 500, _scores(0.52)),
             _cell("b" * 64, "sptp", "equal", 500, _scores(0.40), ir="b", vis="b"),  # SPTP trained on dataset b
             _cell("c" * 64, "aptp", "equal", 500, _scores(0.45), vis="b")]  # fmt: skip
    text = render(_write_folder(tmp_path / "r", cells)).read_text()
    q1 = _section(text, "## Q1")
    sptp, aptp, sptp_b, cross = (f"{np.mean(c['scores']):.3f}" for c in cells)
    assert f"| 8 | {sptp} [{sptp}, {sptp}] (k=1) | – | {aptp} [{aptp}, {aptp}] (k=1) |" in q1  # SPTP on b is not averaged in
    q3 = _section(text, "## Q3")
    assert f"| cnn | 8 | a × b | APTP | a | {cross} | {sptp} | {sptp_b} |" in q3
    assert "APTP a×b does not beat SPTP on a" in q3
    assert f"On a, APTP a×b beats SPTP on b (VIF {cross} vs {sptp_b}" in q3


def test_q5_compares_models_at_equal_steps_on_the_n_they_share(tmp_path):
    cells = [_cell("s" * 64, "sptp", "equal", 500, _scores(0.50)), _cell("a" * 64, "aptp", "equal", 500, _scores(0.53)),
             _cell("t" * 64, "sptp", "equal", 500, _scores(0.50), n="2"), _cell("u" * 64, "aptp", "equal", 500, _scores(0.60), n="2"),
             _cell("p" * 64, "sptp", "paper", 10, _scores(0.20)), _cell("q" * 64, "aptp", "paper", 1000, _scores(0.60)),
             _cell("g" * 64, "sptp", "equal", 500, _scores(0.50), model="gan"),
             _cell("h" * 64, "aptp", "equal", 500, _scores(0.52), model="gan")]  # fmt: skip
    q5 = _section(render(_write_folder(tmp_path / "r", cells)).read_text(), "## Q5")
    assert "| cnn | 2 | equal |" in q5 and "| paper |" not in q5  # the paper's budget gives SPTP 10 steps: left out
    assert "(N = 8): cnn 0.0300 (significant gains in 1 of 1" in q5  # N=2's 0.1 gain is cnn-only: not averaged in
    assert "gan 0.0200" in q5 and "the GAN gains less than the other models, as the paper says" in q5
    assert "With 1 seed per cell this is a weak test." in q5


def test_data_multiplier_refutes_only_when_the_whole_interval_is_below_100x(tmp_path):
    cells = [_cell("s" * 64, "sptp", "equal", 500, _scores(0.50), n="2"), _cell("t" * 64, "sptp", "equal", 500, _scores(0.52), n="8"),
             _cell("u" * 64, "sptp", "equal", 500, _scores(0.60), n="400"),
             _cell("a" * 64, "aptp", "equal", 500, _scores(0.51), n="2")]  # fmt: skip
    q1 = _section(render(_write_folder(tmp_path / "r", cells)).read_text(), "## Q1")
    value = data_multiplier(2, float(np.mean(_scores(0.51))), [2, 8, 400], [float(np.mean(_scores(b))) for b in (0.50, 0.52, 0.60)])[0]
    assert f"| cnn | a | APTP | 2 | {value:.3f}× | [{value:.3f}, {value:.3f}] |" in q1  # one seed: no spread
    assert f"It did **not** hold for APTP N=2 on a ({value:.3f}× [" in q1
    assert "can refute" not in q1  # 400 base pairs reach 100·N at N=2
    # with only 8 base pairs at most, 100·N is out of reach: the report says it can only refute
    small = [c for c in cells if c["n"] != "400"]
    q1 = _section(render(_write_folder(tmp_path / "r2", small)).read_text(), "## Q1")
    assert "so it can refute the ~100× claim but never confirm it" in q1
