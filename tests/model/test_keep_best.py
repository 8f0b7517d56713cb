"""--keep-best and --patience: the best epoch on a validation set is kept; a stalled run stops."""

from __future__ import annotations

import json

import pytest
import torch
from kvae_reference import box_data
from trainer_options import cpu_fp32

from model import selection
from model.checkpoint import load_model
from model.config import KVAEConfig
from model.model_file import read_metadata
from model.training import BEST_FILE, LOG_FILE, MODEL_FILE, Trainer, TrainingError

SMALL = dict(frame_size=16, filters=(4, 4), alpha_units=8, batch_size=8, kf_update_steps=1)


@pytest.fixture
def scripted_metric(monkeypatch):
    """A metric that returns the scores given, one per epoch (lower is better)."""

    def install(scores: list[float]) -> None:
        remaining = list(scores)
        metric = selection.Metric("scripted", lambda model, images: remaining.pop(0))
        monkeypatch.setitem(selection.METRICS, "scripted", metric)

    return install


def _trainer(tmp_path, epochs: int, **kwargs) -> Trainer:
    images, _ = box_data(16, seed=3)
    return Trainer(
        images[:, :6],
        options=cpu_fp32(config=KVAEConfig(**SMALL), epochs=epochs, run_dir=tmp_path, **kwargs),
        validation_images=images[:4, :6],
    )


def test_the_best_epoch_is_kept_and_patience_stops_the_run(tmp_path, scripted_metric):
    scripted_metric([0.5, 0.3, 0.4, 0.35, 0.2, 0.1])
    trainer = _trainer(tmp_path, epochs=6, keep_best="scripted", patience=2)
    events = list(trainer.run())
    epochs = [e for e in events if e.kind == "epoch"]
    # Best at epoch 2; epochs 3 and 4 do not improve: patience 2 ends the run there.
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert events[-1].kind == "finished" and events[-1].reason == "no improvement"
    assert [e.validation["best_epoch"] for e in epochs] == [1, 2, 2, 2]
    best = read_metadata(tmp_path / BEST_FILE)
    summary = json.loads(best["summary"])
    assert summary["epoch"] == 2 and summary["selection"]["metric"] == "scripted"
    assert json.loads(read_metadata(tmp_path / MODEL_FILE)["summary"])["epoch"] == 4
    logged = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    assert [r["validation"]["score"] for r in logged if r["kind"] == "epoch"] == [
        0.5,
        0.3,
        0.4,
        0.35,
    ]


def test_best_file_holds_the_weights_of_the_best_epoch(tmp_path, scripted_metric):
    scripted_metric([0.5, 0.9])
    trainer = _trainer(tmp_path, epochs=1, keep_best="scripted")
    list(trainer.run())
    after_one = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer = _trainer(tmp_path, epochs=2, keep_best="scripted", resume=True)
    list(trainer.run())
    best = load_model(tmp_path / BEST_FILE).state_dict()
    assert all(torch.equal(best[k], after_one[k]) for k in after_one)
    assert not torch.equal(trainer.model.state_dict()["A"], after_one["A"])


def test_patience_survives_a_resume(tmp_path, scripted_metric):
    scripted_metric([0.5, 0.6, 0.7])
    list(_trainer(tmp_path, epochs=2, keep_best="scripted", patience=2).run())
    resumed = _trainer(tmp_path, epochs=5, keep_best="scripted", patience=2, resume=True)
    assert resumed.best.best_epoch == 1 and resumed.best.since_best == 1
    events = list(resumed.run())
    assert [e.epoch for e in events if e.kind == "epoch"] == [3]
    assert events[-1].reason == "no improvement"


def test_real_metrics_score_a_model_and_name_the_figures_they_average():
    from model.evaluation import imputation_metrics
    from model.masks import planning_mask, random_mask

    images, _ = box_data(6, seed=4)
    model = Trainer(images, options=cpu_fp32(config=KVAEConfig(**SMALL))).model.eval()
    for name, metric in selection.METRICS.items():
        value, figures = metric.evaluate(model, images)
        assert isinstance(value, float), name
        if figures:
            assert value == pytest.approx(sum(figures.values()) / len(figures)), name
    # Each figure is the Hamming distance of that mask and estimate, scored directly.
    steps = images.shape[1]
    masks = {
        "planning": planning_mask(steps, model.config.t_init_mask, model.config.t_steps_mask),
        "random": random_mask(len(images), steps, 0.5, model.config.t_init_mask, 0),
    }
    _, figures = selection.METRICS["smoothing+filtering"].evaluate(model, images)
    assert set(figures) == {f"{m} {e}" for m in masks for e in ("smoothing", "filtering")}
    for kind, mask in masks.items():
        direct = imputation_metrics(model, images, mask)["hamming"]
        for estimate in ("smoothing", "filtering"):
            assert figures[f"{kind} {estimate}"] == pytest.approx(float(direct[estimate]))
    assert 0 <= selection.METRICS["smoothing"].evaluate(model, images)[0] <= 1
    filtering = selection.METRICS["filtering"].evaluate(model, images)[1]
    assert filtering == {k: v for k, v in figures.items() if k.endswith("filtering")}


def test_the_log_lists_the_figures_of_each_epochs_score(tmp_path):
    list(_trainer(tmp_path, epochs=2, keep_best="smoothing+filtering").run())
    logged = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    records = [r["validation"] for r in logged if r["kind"] == "epoch"]
    assert len(records) == 2
    for record in records:
        assert len(record["figures"]) == 4
        assert record["score"] == pytest.approx(sum(record["figures"].values()) / 4)


def test_bad_selection_options_are_refused_before_any_work(tmp_path):
    images, _ = box_data(8, seed=3)
    cfg = dict(config=KVAEConfig(**SMALL), run_dir=tmp_path)
    with pytest.raises(TrainingError, match="unknown --keep-best metric"):
        Trainer(images, None, cpu_fp32(**cfg, keep_best="best-ever"), validation_images=images)
    with pytest.raises(TrainingError, match="needs a validation set"):
        Trainer(images, None, cpu_fp32(**cfg, keep_best="smoothing"))
    with pytest.raises(TrainingError, match="--patience N needs --keep-best"):
        Trainer(images, None, cpu_fp32(**cfg, patience=3))
    with pytest.raises(TrainingError, match="validation frames"):
        Trainer(images, None, cpu_fp32(**cfg), validation_images=images[:, :, :8, :8])
    assert not any(tmp_path.iterdir())


def test_the_command_line_names_the_same_metrics():
    from model.training_options import METRIC_NAMES

    assert tuple(selection.METRICS) == METRIC_NAMES
