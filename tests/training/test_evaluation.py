"""Training's held-out evaluation is the evaluate stage's: the same model on the same
images gives the same numbers in metrics/train.json and through ``ivif evaluate``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ivif.data.cache import ImageCache, write_cache
from ivif.evaluation import EvaluateConfig
from ivif.evaluation.grid import comparison_grid
from ivif.evaluation.run import evaluate_to_files
from ivif.metrics import STANDARD
from ivif.models import create_model
from ivif.params import load_params
from ivif.training.evaluation import evaluate
from ivif.training.run import apply_overrides, train_from_params

from .conftest import DATASET, TEST_IMAGES


def _colour_test_split(root):
    """Replace the held-out split by the same scenes with colour visible images."""
    test = root / "data" / "cache" / DATASET / "test"
    gray = ImageCache(test)
    tint = np.array([1.0, 0.8, 0.55])
    records = [
        (name, gray.ir(i), np.clip(gray.vi(i)[..., :1].astype(np.float64) * tint + [0, 20, 45], 0, 255).astype(np.uint8))
        for i, name in enumerate(gray.names)
    ]
    write_cache(test, records, {"dataset": DATASET, "split": "test"})


@pytest.mark.parametrize(("mode", "colour"), [("full", False), ("tiled", False), ("full", True)], ids=["full", "tiled", "colour"])
def test_train_json_equals_evaluate_stage_on_the_final_checkpoint(tiny_project, tmp_path, mode, colour):
    root = tiny_project.parent
    if colour:
        _colour_test_split(root)
    grid = {"grid_images": 1, "grid_height": 24}
    params = apply_overrides(
        load_params(tiny_project),
        [
            f"train.eval_images={TEST_IMAGES}",
            f"evaluate.mode={mode}",
            "evaluate.device=cpu",
            f"evaluate.grid_images={grid['grid_images']}",
            f"evaluate.grid_height={grid['grid_height']}",
        ],
    )
    result = train_from_params(params, root=root, track=False, progress=False).result
    train_eval = json.loads(result.paths.metrics.read_text())["eval"]

    config = EvaluateConfig(mode=mode, device="cpu", max_images=TEST_IMAGES, **grid)
    outputs = evaluate_to_files(
        str(result.paths.model_file),
        root / "data" / "cache" / DATASET / "test",
        config,
        tmp_path / "evaluate.json",
        tmp_path / "per_image.csv",
        tmp_path / "grid.png",
    )
    assert sorted(train_eval) == sorted(STANDARD) == sorted(outputs.result.means)
    assert train_eval == outputs.result.means  # equal, not close
    assert len(outputs.result.per_image) == TEST_IMAGES
    # the previews are the evaluate stage's grid of the same fused images
    previews = np.asarray(Image.open(result.paths.previews_png))
    assert np.array_equal(previews, np.asarray(Image.open(tmp_path / "grid.png")))


def test_evaluating_leaves_the_training_model_untouched(tiny_project):
    cache = ImageCache(tiny_project.parent / "data" / "cache" / DATASET / "test")
    model = create_model("cnn").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    strides = {k: v.stride() for k, v in model.state_dict().items()}
    result = evaluate(model, cache, 1, torch.device("cpu"), EvaluateConfig(metrics=("EN", "SD"), grid_images=1))
    assert set(result.metrics) == {"EN", "SD"} and len(result.previews) == 1
    assert model.training  # still in training mode
    assert all(torch.equal(before[k], v) and v.stride() == strides[k] for k, v in model.state_dict().items())
    assert comparison_grid(result.previews, 24).shape[0] == 24
