"""The engine on real (tiny) caches and manifests: every model and paradigm learns,
resume is exact, the NaN guard stops cleanly, outputs are written."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from ivif.models.checkpoint import load_checkpoint
from ivif.params import load_params
from ivif.training import NonFiniteLossError, TrainConfig
from ivif.training.checkpoint import load_state
from ivif.training.run import apply_overrides, train_from_params


def _train(params_path, *overrides, **kwargs):
    params = apply_overrides(load_params(params_path), overrides)
    return train_from_params(params, root=params_path.parent, track=False, progress=False, **kwargs).result


@pytest.mark.parametrize("paradigm", ["sptp", "uptp", "aptp"])
@pytest.mark.parametrize("model", ["cnn", "transformer", "gan"])
def test_loss_falls_for_every_model_and_paradigm(tiny_project, model, paradigm):
    result = _train(tiny_project, f"train.model={model}", f"train.manifest={paradigm}", "train.epochs=4")
    first, last = result.history.rows[0], result.history.rows[-1]
    assert result.step == 8 and result.completed
    assert last["loss/total"] < 0.9 * first["loss/total"], result.history.rows
    if model == "gan":
        assert {"loss/adversarial", "loss/discriminator"} <= set(last)


def test_outputs_of_a_run(tiny_project):
    result = _train(tiny_project, "train.eval_images=2")
    paths = result.paths
    checkpoint = load_checkpoint(paths.model_file)
    assert (
        checkpoint["model_name"] == "cnn"
        and checkpoint["step"] == 8
        and checkpoint["manifest"] == "aptp"
        and checkpoint["policy"] == "arbitrary"
    )
    summary = json.loads(paths.metrics.read_text())
    assert summary["step"] == 8 and summary["loss"]["loss/total"] > 0
    assert {"EN", "SD", "MI", "VIF", "Qabf", "SSIM"} <= set(summary["eval"])
    assert paths.plots.read_text().splitlines()[0].startswith("step,epoch,lr,loss/total")
    assert len(paths.plots.read_text().splitlines()) == 1 + 2  # header + steps 4 and 8
    assert paths.previews_png.stat().st_size > 0 and paths.loss_png.stat().st_size > 0
    assert load_state(paths.last_state)["step"] == 8


def test_sampled_epochs_and_epoch_rollover(tiny_project):
    # aptp on 4 images: 16 pairs -> 8 batches of 2 per epoch; 2 epochs, no step cap.
    result = _train(tiny_project, "train.max_steps=null", "train.epochs=2", "train.log_every=8", "train.ckpt_every=100")
    assert result.total_steps == 16 and result.step == 16
    assert [row["epoch"] for row in result.history.rows] == [0, 1]


def _state_dicts_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("model", ["cnn", "gan"])
def test_stop_and_resume_is_bitwise_equal_to_uninterrupted(tiny_project, tmp_path, model):
    overrides = (f"train.model={model}", "train.max_steps=null", "train.epochs=2", "train.ckpt_every=100")
    uninterrupted = _train(tiny_project, *overrides, out_dir=tmp_path / "straight")
    # Stop mid-epoch (step 5 of 8) -- the epoch position must be restored, not just the step.
    stopped = _train(tiny_project, *overrides, out_dir=tmp_path / "resumed", stop_after_steps=5)
    assert stopped.stopped_early and stopped.step == 5
    resumed = _train(tiny_project, *overrides, out_dir=tmp_path / "resumed", resume=True)
    assert resumed.step == uninterrupted.step == 16
    assert _state_dicts_equal(resumed.model.state_dict(), uninterrupted.model.state_dict())
    straight_state = load_state(uninterrupted.paths.last_state)
    resumed_state = load_state(resumed.paths.last_state)
    if model == "gan":
        assert _state_dicts_equal(straight_state["adversary"]["discriminator"], resumed_state["adversary"]["discriminator"])
    assert [r["loss/total"] for r in resumed.history.rows] == [r["loss/total"] for r in uninterrupted.history.rows]


def test_resume_with_more_epochs_stretches_the_schedule_to_the_new_end(tiny_project, tmp_path, caplog):
    # A cosine schedule built for 16 steps is at its floor (0) from step 16 on; resumed as a
    # 32-step run it must follow the 32-step curve instead of training on at lr 0.
    common = ("train.max_steps=null", "train.ckpt_every=100", "train.log_every=4", "train.schedule=cosine", "train.warmup_steps=0")
    out = tmp_path / "extended"
    _train(tiny_project, *common, "train.epochs=2", out_dir=out, stop_after_steps=12)
    resumed = _train(tiny_project, *common, "train.epochs=4", out_dir=out, resume=True)
    assert resumed.step == resumed.total_steps == 32
    assert "resuming a 16-step run as a 32-step run" in caplog.text
    straight = _train(tiny_project, *common, "train.epochs=4", out_dir=tmp_path / "straight")
    lr = {row["step"]: row["lr"] for row in resumed.history.rows}
    lr_straight = {row["step"]: row["lr"] for row in straight.history.rows}
    assert lr[16] > 0.5 * lr[4] and lr[28] > 0
    for step in (16, 20, 24, 28, 32):  # from the resumed step on, the 32-step run's curve
        assert lr[step] == pytest.approx(lr_straight[step])


def test_resume_without_checkpoint_starts_fresh(tiny_project, tmp_path):
    result = _train(tiny_project, out_dir=tmp_path / "fresh", resume=True)
    assert result.step == 8


def test_resume_refuses_a_checkpoint_of_other_params(tiny_project, tmp_path):
    _train(tiny_project, out_dir=tmp_path / "run", stop_after_steps=2)
    with pytest.raises(ValueError, match="batch_size=2"):
        _train(tiny_project, "train.batch_size=4", out_dir=tmp_path / "run", resume=True)


def test_nan_guard_stops_and_keeps_last_good_checkpoint(tiny_project, tmp_path):
    # lr = 1e30 makes the first update explode the weights; the next forward is non-finite.
    overrides = ("train.lr=1.0e+30", "train.schedule=constant", "train.ckpt_every=1", "train.grad_clip=0")
    with pytest.raises(NonFiniteLossError, match=r"at step \d+; training stopped and the last good checkpoint is .*last.pt") as error:
        _train(tiny_project, *overrides, out_dir=tmp_path / "nan")
    state = load_state(tmp_path / "nan" / "checkpoints" / "last.pt")
    failed_step = int(str(error.value).split("at step ")[1].split(";")[0])
    assert state["step"] == failed_step - 1 >= 1
    assert all(torch.isfinite(t).all() for t in state["model"].values())


def test_config_errors():
    with pytest.raises(TypeError, match="paradigm"):
        TrainConfig(paradigm="aptp")  # renamed: train.manifest names any manifest
    with pytest.raises(ValueError, match=r"'cnnn' is not a registered model; choose one of \['cnn', 'gan', "):
        TrainConfig(model="cnnn")
    with pytest.raises(ValueError, match="multiple of 16"):
        TrainConfig(model="gan", patch_size=24)
    with pytest.raises(ValueError, match="patch_size"):
        TrainConfig(patch_size=10)
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="write 1.0e-4"):
        TrainConfig(lr="1e-4")


def test_params_yaml_train_section_is_valid(project_root):
    from ivif.params import section

    config = section(yaml.safe_load((project_root / "params.yaml").read_text()), "train", TrainConfig)
    assert (config.loss.alpha, config.loss.beta, config.loss.adversarial) == (1.0, 0.2, 0.01)


def test_epoch_smaller_than_a_batch_trains_across_epochs(tiny_project, tmp_path):
    # sptp on 4 images: 4 pairs per epoch, batch 8 -> each step reads two epochs.
    overrides = (
        "train.manifest=sptp",
        "train.batch_size=8",
        "train.max_steps=null",
        "train.epochs=6",
        "train.log_every=1",
        "train.ckpt_every=100",
    )
    result = _train(tiny_project, *overrides, out_dir=tmp_path / "straight")
    assert result.total_steps == result.step == 3  # ceil(6 epochs * 4 pairs / 8)
    assert [row["epoch"] for row in result.history.rows] == [1, 3, 5]
    _train(tiny_project, *overrides, out_dir=tmp_path / "resumed", stop_after_steps=1)
    resumed = _train(tiny_project, *overrides, out_dir=tmp_path / "resumed", resume=True)
    assert _state_dicts_equal(resumed.model.state_dict(), result.model.state_dict())


def test_auto_resume_continues_its_own_run_and_restarts_another(tiny_project, tmp_path, caplog):
    out = tmp_path / "run"
    _train(tiny_project, out_dir=out, stop_after_steps=3)
    resumed = _train(tiny_project, out_dir=out, resume="auto")
    assert resumed.step == 8 and len(resumed.history.rows) == 2
    straight = _train(tiny_project, out_dir=tmp_path / "straight")
    assert _state_dicts_equal(resumed.model.state_dict(), straight.model.state_dict())
    # another seed changes the trajectory: a fresh start, and a log line saying why
    _train(tiny_project, "train.seed=1", out_dir=out, stop_after_steps=3)
    with caplog.at_level("WARNING", logger="ivif.training.engine"):
        fresh = _train(tiny_project, "train.seed=2", out_dir=out, resume="auto")
    assert fresh.step == 8 and "starting afresh" in caplog.text and "train.seed=1" in caplog.text
