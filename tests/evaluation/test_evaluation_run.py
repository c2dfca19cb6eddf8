"""ivif evaluate: outputs for DVC, scores equal to scoring the saved fused images."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from ivif_testkit import SMALL_CNN, STRONG, contrast_fusion, write_eval_cache
from PIL import Image

from ivif.evaluation import EvaluateConfig, evaluate_model
from ivif.evaluation.images import fuse_uint8_pair
from ivif.fusion import FusionJob, fuse_files
from ivif.metrics import compute_metrics
from ivif.metrics.reading import read_gray_opencv
from ivif.models.checkpoint import save_checkpoint

CONFIG = EvaluateConfig(device="cpu", metrics=("EN", "SD", "SSIM"), grid_images=2, grid_height=24)


@pytest.fixture(scope="module")
def cache(sample_dir, tmp_path_factory):
    return write_eval_cache(sample_dir, tmp_path_factory.mktemp("eval") / "test")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    model = contrast_fusion(**STRONG)
    return save_checkpoint(
        tmp_path_factory.mktemp("ckpt") / "model.pt", model_name="cnn", model_kwargs=SMALL_CNN, state_dict=model.state_dict()
    )


def test_cli_writes_dvc_metrics_plots_and_grid(cache, checkpoint, tmp_path):
    from ivif.cli import main

    params = tmp_path / "params.yaml"
    params.write_text("evaluate: {device: cpu, metrics: [EN, SD, SSIM], grid_images: 2, grid_height: 24}\n")
    out = {name: tmp_path / name for name in ("m.json", "per_image.csv", "grid.png")}
    code = main(
        [
            "evaluate",
            "--params",
            str(params),
            "--model",
            str(checkpoint),
            "--data",
            str(cache.root),
            "--metrics-file",
            str(out["m.json"]),
            "--per-image-file",
            str(out["per_image.csv"]),
            "--grid-file",
            str(out["grid.png"]),
        ]
    )
    assert code == 0
    summary = json.loads(out["m.json"].read_text())
    assert summary["images"] == len(cache) and summary["convention"] == "cddfuse" and summary["mode"] == "full"
    rows = list(csv.DictReader(out["per_image.csv"].open()))
    assert [r["name"] for r in rows] == cache.names and list(rows[0]) == ["index", "name", "EN", "SD", "SSIM"]
    for metric, mean in summary["mean"].items():
        assert mean == pytest.approx(np.mean([float(r[metric]) for r in rows]), rel=1e-4)
    grid = Image.open(out["grid.png"])
    assert grid.height == 2 * 24 + 4 and grid.mode == "RGB"  # two rows and a gap


def test_scores_equal_those_of_the_saved_fused_images(cache, tmp_path):
    model = contrast_fusion(**STRONG)
    result = evaluate_model(model, cache, CONFIG)
    for index, row in enumerate(result.per_image):
        ir, vi = cache.ir(index), cache.vi(index)[..., 0]
        fused = fuse_uint8_pair(model, ir, vi, "full", torch.device("cpu"))
        paths = [tmp_path / f"{n}.png" for n in ("ir", "vi", "fused")]
        for path, image in zip(paths, (ir, vi, fused)):
            Image.fromarray(image).save(path)
        from_files = compute_metrics(*(read_gray_opencv(p) for p in paths), names=CONFIG.metrics)
        assert row.scores == pytest.approx(from_files, rel=1e-9)


def test_array_fusion_equals_ivif_fuse_on_files(tmp_path):
    rng = np.random.default_rng(0)
    ir = rng.integers(0, 256, (19, 26), dtype=np.uint8)
    vi = rng.integers(0, 256, (19, 26, 3), dtype=np.uint8)
    Image.fromarray(ir).save(tmp_path / "ir.png")
    Image.fromarray(vi).save(tmp_path / "vi.png")
    model = contrast_fusion(**STRONG)
    (written,) = fuse_files(model, [FusionJob("x", tmp_path / "ir.png", tmp_path / "vi.png", tmp_path / "f.png")], progress=False).written
    from_files = np.asarray(Image.open(written))
    assert from_files.shape == (19, 26, 3)
    assert np.array_equal(fuse_uint8_pair(model, ir, vi), from_files)
