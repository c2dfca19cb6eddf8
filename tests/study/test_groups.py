"""Scene groups: k-means and brightness groups on real images, per-group caches."""

from __future__ import annotations

import numpy as np
from studykit import study_dict, write_study

from ivif.data.cache import ImageCache
from ivif.study.cells import expand
from ivif.study.data import prepare_study_data
from ivif.study.groups import kmeans, prepare_groups
from ivif.study.spec import load_study


def test_kmeans_separates_clusters():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 0.1, (10, 2)), rng.normal(5, 0.1, (10, 2))])
    labels, centres = kmeans(points, 2, seed=1)
    assert len(set(labels[:10])) == 1 and len(set(labels[10:])) == 1 and labels[0] != labels[10]
    assert sorted(np.round(centres[:, 0]).tolist()) == [0.0, 5.0]


def test_brightness_groups_split_train_and_write_caches(tmp_path, sample_dir):
    blocks = [{"name": "scenes", "paradigms": ["aptp"], "n": [2], "constraint": ["across", "within"], "budget": "equal"}]
    study = load_study(write_study(tmp_path / "s.yaml", study_dict(tmp_path, sample_dir, groups={"by": "brightness"}, blocks=blocks)))
    cells = expand(study)
    assert sorted((c.config["constraint"], c.config["ir"]["group"], c.config["vis"]["group"]) for c in cells) == [
        ("across", "day", "night"),
        ("across", "night", "day"),
        ("within", "day", "day"),
        ("within", "night", "night"),
    ]
    prepare_study_data(study)
    groups = prepare_groups(study)
    train = groups["train"]["sample"]
    threshold = groups["rule"]["threshold"]
    full = ImageCache(study.cache_root / "sample" / "train")
    for group in ("day", "night"):
        cache = ImageCache(study.cache_root / f"sample.{group}" / "train")
        assert cache.names == [n for n in full.names if train[n] == group]
        for i, name in enumerate(cache.names):
            vi = cache.vi(i).astype(float) / 255
            luma = vi @ [0.299, 0.587, 0.114] if vi.ndim == 3 and vi.shape[-1] == 3 else vi.reshape(vi.shape[:2])
            assert (luma.mean() >= threshold) == (group == "day"), name
    assert sum(v["count"] for v in groups["summary"]["train"]["sample"].values()) == len(full)


def test_scene_cells_fill_q4_with_failure_cases(tmp_path, sample_dir):
    from ivif.study.cell import run_cell
    from ivif.study.cells import cell_dir
    from ivif.study.collect import collect, files_to_keep
    from ivif.study.report import render
    from ivif.study.runner import prepare

    blocks = [{"name": "scenes", "paradigms": ["aptp"], "n": [2], "constraint": ["across", "within"], "budget": "equal"}]
    study = load_study(write_study(tmp_path / "s.yaml", study_dict(tmp_path, sample_dir, groups={"by": "brightness"}, blocks=blocks)))
    cells = expand(study)
    prepare(study, cells)
    ran = [c for c in cells if (c.config["ir"]["group"], c.config["vis"]["group"]) in {("day", "night"), ("day", "day")}]
    assert [run_cell(study, c)["status"] for c in ran] == ["ok", "ok"]
    report = collect(study, cells)
    text = render(report).read_text()
    q4 = text[text.index("## Q4") : text.index("## Q5")]
    assert "APTP N=2 on sample: across − within = " in q4
    assert "Failure cases (across trails within most): 0" in q4  # names as written (08, not 8)
    assert "![scene failure cases sample](gallery/scenes-sample.png)" in q4
    assert (report / "gallery" / "scenes-sample.png").stat().st_size > 0
    assert "scenes-sample" not in text[text.index("## Gallery") :]  # the paradigm gallery keeps its own strips
    # the strip's thumbnails travel with the kept files, so `ivif study report STUDY.yaml` redraws it elsewhere
    kept = {p for p in files_to_keep(study, cells) if "fused" in p.parts}
    assert {p.parent.parent.parent for p in kept} == {cell_dir(study, c) for c in ran}
    assert all(p.parent.name == "sample" for p in kept) and len(kept) == 2 * 2  # 2 cells x the 2 scored images
