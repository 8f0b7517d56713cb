"""train --init-from: a new run that starts from a saved model's weights and architecture."""

from __future__ import annotations

import pytest
import torch
from kvae_reference import box_data
from trainer_options import cpu_fp32

from model.checkpoint import save_model
from model.config import KVAEConfig
from model.kvae import KVAE
from model.training import Trainer, TrainingError

SMALL = dict(frame_size=16, filters=(4, 4), alpha_units=8, batch_size=8, kf_update_steps=1)


@pytest.fixture
def source(tmp_path):
    torch.manual_seed(5)
    model = KVAE(KVAEConfig(**SMALL, init="torch", decoder_dense_activation="relu"))
    path = tmp_path / "source.safetensors"
    save_model(model, path)
    return model, path


def test_a_new_run_starts_from_the_weights_and_keeps_the_architecture(source, tmp_path):
    model, path = source
    images, _ = box_data(16, seed=3)
    trainer = Trainer(
        images[:, :6],
        options=cpu_fp32(
            config=KVAEConfig(frame_size=16),  # ignored: the source model decides the network
            init_from=path,
            schedule_changes={"init_lr": 0.001, "kf_update_steps": 0},
            run_dir=tmp_path / "run",
        ),
    )
    assert trainer.config.decoder_dense_activation == "relu" and trainer.config.K == 3
    assert trainer.config.init_lr == 0.001 and trainer.config.kf_update_steps == 0
    assert trainer.epoch == 0 and trainer.step == 0
    for name, value in model.state_dict().items():
        assert torch.equal(trainer.model.state_dict()[name], value), name


def test_an_architecture_change_is_refused(source, tmp_path):
    _, path = source
    images, _ = box_data(8, seed=3)
    with pytest.raises(TrainingError, match="dim_z"):
        Trainer(images[:, :6], options=cpu_fp32(init_from=path, schedule_changes={"dim_z": 6}))
