"""Study files in tmp over the embedded sample (imported by the study tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # flows/ is run from the project root
    sys.path.insert(0, str(PROJECT_ROOT))

TINY_TRAIN = {"batch_size": 4, "patch_size": 32, "lr": 1.0e-3, "log_every": 2, "ckpt_every": 2, "device": "cpu"}
TINY_EVALUATE = {"metrics": ["EN", "SD", "VIF"], "device": "cpu", "max_images": 2}


def study_dict(tmp_path: Path, sample_dir: Path, **overrides) -> dict:
    study = {
        "name": "t",
        "work_dir": str(tmp_path / "work"),
        "report_dir": str(tmp_path / "report"),
        "data": {"root": str(tmp_path / "data"), "datasets": {"sample": {"from": str(sample_dir), "test_fraction": 0.25}}},
        "train_dataset": "sample",
        "test_sets": ["sample"],
        "train": dict(TINY_TRAIN),
        "evaluate": dict(TINY_EVALUATE),
        "budgets": {"equal": {"steps": 6}},
        "blocks": [{"name": "scale", "models": ["cnn"], "paradigms": ["sptp", "aptp"], "n": [2, 4], "seeds": [0], "budget": "equal"}],
        "tracking": {"enabled": False},
    }
    study.update(overrides)
    return study


def write_study(path: Path, study: dict) -> Path:
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path
