"""The Trainer: it learns, it survives NaNs, it resumes on the same curve, it obeys threads."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest
import torch
from kvae_reference import box_data, poison
from trainer_options import cpu_fp32

from model.config import KVAEConfig
from model.training import MAX_BAD_STEPS, Trainer, TrainingError, learning_rate, phase_of


def test_short_training_lowers_loss_and_imputation_error(trained_box):
    tb = trained_box
    losses = np.array(tb.losses)
    assert np.isfinite(losses).all()
    assert losses[-10:].mean() < 0.1 * losses[:10].mean()
    # Planning mask: 3 frames seen, 5 hidden, 2 seen. An untrained decoder draws grey
    # everywhere (> 0.5: every pixel wrong); drawing black everywhere would score the
    # ball's share of the frame. The trained model must beat both, so it draws the ball
    # roughly where it is.
    ball_share = float((tb.test_images[:, 3:8] > 0).mean())
    assert tb.after["smoothing"] < tb.before["smoothing"]
    assert tb.after["smoothing"] < 0.7 * ball_share, (tb.after, ball_share)
    assert tb.after["filtering"] < ball_share
    assert tb.after["smoothing"] <= tb.after["filtering"] + 1e-3


def test_schedule_phases_and_learning_rate():
    cfg = KVAEConfig(
        only_vae_epochs=2, kf_update_steps=3, init_lr=0.01, decay_rate=0.5, decay_epochs=2
    )
    assert [phase_of(cfg, e) for e in range(7)] == ["vae"] * 2 + ["vae+lgssm"] * 3 + ["all"] * 2
    assert [learning_rate(cfg, e) for e in range(5)] == pytest.approx(
        [0.01, 0.01, 0.005, 0.005, 0.0025]
    )


# ----------------------------------------------------------------------------- NaN handling
SMALL = dict(frame_size=16, filters=(4, 4), alpha_units=8, batch_size=4, kf_update_steps=1)


def small_trainer(n=16, **kwargs) -> Trainer:
    images, _ = box_data(n, seed=3)
    return Trainer(images[:, :6], options=cpu_fp32(config=KVAEConfig(**SMALL), **kwargs))


def test_nan_loss_skips_the_step_and_reports_it():
    trainer = small_trainer()
    poison(trainer, bad_calls={1})
    events = trainer.run()
    first = next(events)
    weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    second = next(events)
    assert not first.skipped and second.skipped
    assert np.isnan(second.grad_norm) and np.isnan(second.terms["elbo"])
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, weights[k]), f"{k} changed in a skipped step"
    third = next(events)
    assert not third.skipped and np.isfinite(third.terms["elbo"])
    assert [first.step, second.step, third.step] == [1, 2, 3]


def test_a_singular_matrix_skips_the_step_like_a_nan():
    """At a huge lr a covariance can stop being positive definite: Cholesky raises."""
    trainer = small_trainer()
    real_elbo = trainer.model.elbo
    calls = [0]

    def elbo(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 2:
            torch.linalg.cholesky(-torch.eye(2))  # raises torch.linalg.LinAlgError
        return real_elbo(*args, **kwargs)

    trainer.model.elbo = elbo
    events = trainer.run()
    first, second, third = next(events), next(events), next(events)
    assert [first.skipped, second.skipped, third.skipped] == [False, True, False]
    assert np.isnan(second.terms["elbo"]) and np.isnan(second.grad_norm)
    assert np.isfinite(third.terms["elbo"])


def test_repeated_nan_raises_a_training_error():
    trainer = small_trainer(n=4 * (MAX_BAD_STEPS + 2))
    poison(trainer, bad_calls=set(range(2, 100)))
    seen = []
    with pytest.raises(TrainingError, match=r"diverged: 10 steps in a row.*init_lr"):
        for event in trainer.run():
            seen.append(event)
    assert sum(e.skipped for e in seen if e.kind == "step") == MAX_BAD_STEPS - 1
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


# ----------------------------------------------------------------------------- resume
def step_losses(events) -> list[float]:
    return [e.terms["elbo"] for e in events if e.kind == "step"]


def test_resume_continues_the_same_curve(tmp_path):
    cfg = dict(config=KVAEConfig(**{**SMALL, "num_epochs": 3, "train_miss_prob": 0.3}))
    images, _ = box_data(20, seed=4)
    images = images[:, :6]
    straight = step_losses(Trainer(images, options=cpu_fp32(**cfg, run_dir=tmp_path / "a")).run())
    assert len(straight) == 15

    first = Trainer(images, options=cpu_fp32(**cfg, run_dir=tmp_path / "b"))
    events = []
    for event in first.run():
        events.append(event)
        if event.kind == "step" and event.step == 7:  # mid-way through epoch 2
            first.stop()
    assert events[-1].kind == "finished" and events[-1].reason == "stopped"
    again = Trainer(images, options=cpu_fp32(run_dir=tmp_path / "b", resume=True))
    assert again.epoch == 1 and again.step == 7
    resumed = step_losses(events) + step_losses(again.run())
    assert len(resumed) == len(straight)
    np.testing.assert_allclose(resumed, straight, rtol=1e-5, atol=1e-5)
    resumed_model = again.model.state_dict()
    reference = Trainer(
        images, options=cpu_fp32(run_dir=tmp_path / "a", resume=True)
    ).model.state_dict()
    for k, v in reference.items():
        torch.testing.assert_close(resumed_model[k], v, rtol=1e-4, atol=1e-5)


def test_a_resumed_run_may_change_its_schedule_but_not_its_model(tmp_path):
    images, _ = box_data(8, seed=4)
    images = images[:, :6]
    cfg = KVAEConfig(**{**SMALL, "num_epochs": 1})
    list(Trainer(images, options=cpu_fp32(config=cfg, run_dir=tmp_path)).run())
    resumed = cpu_fp32(run_dir=tmp_path, resume=True)
    again = Trainer(
        images,
        options=dataclasses.replace(
            resumed, epochs=2, schedule_changes={"train_miss_prob": 0.5, "init_lr": 0.001}
        ),
    )
    assert again.config.train_miss_prob == 0.5 and again.config.init_lr == 0.001
    assert again.model.config == again.config and again.epoch == 1
    events = [e for e in again.run() if e.kind == "step"]
    assert events and all(e.epoch == 2 for e in events)
    with pytest.raises(TrainingError, match="keeps its model: K, dim_z cannot change"):
        changes = {"K": 5, "dim_z": 3}
        Trainer(images, options=dataclasses.replace(resumed, schedule_changes=changes))
    with pytest.raises(TrainingError, match="unknown config keys: nonsense"):
        changes = {"nonsense": 1}
        Trainer(images, options=dataclasses.replace(resumed, schedule_changes=changes))


def test_resume_without_a_run_is_an_error(tmp_path):
    with pytest.raises(TrainingError, match="nothing to resume"):
        Trainer(
            np.zeros((4, 6, 16, 16), np.float32), options=cpu_fp32(run_dir=tmp_path, resume=True)
        )


def test_wrong_frame_size_is_an_error():
    with pytest.raises(TrainingError, match="model expects"):
        Trainer(np.zeros((4, 6, 8, 8), np.float32), options=cpu_fp32(config=KVAEConfig(**SMALL)))


# ----------------------------------------------------------------------------- threads
def test_pause_resume_and_stop_from_another_thread():
    images, _ = box_data(64, seed=5)
    trainer = Trainer(
        images[:, :6], options=cpu_fp32(config=KVAEConfig(**{**SMALL, "num_epochs": 1000}))
    )
    events: list = []
    error: list = []

    def consume():
        try:
            for event in trainer.run():
                events.append(event)
        except BaseException as err:  # surfaced by the assertions below
            error.append(err)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()

    def wait_for(predicate, timeout=20.0):
        end = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < end, "timed out"
            time.sleep(0.01)

    wait_for(lambda: len(events) >= 3)
    trainer.pause()
    assert trainer.paused
    count = len(events)
    time.sleep(0.5)
    assert len(events) <= count + 1, "steps ran while paused"  # one may have been under way
    count = len(events)
    time.sleep(0.3)
    assert len(events) == count, "steps ran while paused"
    trainer.resume()
    wait_for(lambda: len(events) >= count + 3)
    trainer.pause()
    trainer.stop()  # stop also releases a paused loop
    worker.join(timeout=20)
    assert not worker.is_alive() and not error
    assert events[-1].kind == "finished" and events[-1].reason == "stopped"
    assert events[-1].epoch < 1000
