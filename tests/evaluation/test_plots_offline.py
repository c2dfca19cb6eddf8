"""`dvc plots show` renders the pipeline's static PNG plots with no network: the page
references no http(s) URL. (A vega plot of a CSV, by contrast, loads vega from a CDN.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from ivif_testkit import SMALL_CNN, STRONG, contrast_fusion, write_eval_cache

from ivif.evaluation import EvaluateConfig
from ivif.evaluation.run import evaluate_to_files
from ivif.models.checkpoint import save_checkpoint
from ivif.training.history import LossHistory

URL = re.compile(r"https?://")


def _dvc(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DO_NOT_TRACK": "1"}
    dvc = str(Path(sys.executable).parent / "dvc")
    proc = subprocess.run([dvc, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"


def _project_with_plots(root: Path, sample_dir: Path) -> dict[str, Path]:
    """A DVC project holding the PNG plots ivif writes: loss curve, per-image scores, grid."""
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    _dvc(["init", "-q"], root)
    cache = write_eval_cache(sample_dir, root / "cache" / "test")
    model = save_checkpoint(root / "model.pt", model_name="cnn", model_kwargs=SMALL_CNN, state_dict=contrast_fusion(**STRONG).state_dict())
    config = EvaluateConfig(device="cpu", metrics=("EN", "SD", "SSIM"), grid_images=2, grid_height=24, max_images=3)
    outputs = evaluate_to_files(
        str(model), cache.root, config, root / "metrics.json", root / "plots/per_image.csv", root / "plots/grid.png"
    )
    history = LossHistory()
    for step in (5, 10, 15):
        history.append(step, 0, 1e-3, {"loss/total": 1.0 / step})
    history.write_csv(root / "plots/train_loss.csv")
    loss_png = history.write_png(root / "plots/train_loss.png")
    return {"loss": loss_png, "per_image": outputs.written[2], "grid": outputs.written[3]}


def test_png_plots_render_without_network(tmp_path, sample_dir):
    root = tmp_path / "project"
    root.mkdir()
    pngs = _project_with_plots(root, sample_dir)
    assert pngs["per_image"] == root / "plots/per_image.png" and pngs["per_image"].read_bytes()[:4] == b"\x89PNG"

    plots = [{str(path.relative_to(root)): None} for path in pngs.values()]
    (root / "dvc.yaml").write_text(yaml.safe_dump({"plots": plots}))
    _dvc(["plots", "show", "-o", "offline"], root)
    page = (root / "offline" / "index.html").read_text()
    assert not URL.findall(page), URL.findall(page)
    assert page.count("<img") == 3

    # what the static plots avoid: a vega chart of the loss CSV pulls its scripts from a CDN
    (root / "dvc.yaml").write_text(yaml.safe_dump({"plots": [*plots, {"plots/train_loss.csv": {"x": "step", "y": "loss/total"}}]}))
    _dvc(["plots", "show", "-o", "online"], root)
    assert URL.search((root / "online" / "index.html").read_text())
