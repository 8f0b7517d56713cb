"""The original release's recipe as the default, and old model files unchanged by it.

Each option that changes weights or the objective has the original's value as its
default; a model file saved before the option existed keeps the value it was made with.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from torch.nn import functional as F

from model.checkpoint import load_model, save_model
from model.config import LEGACY_VALUES, KVAEConfig
from model.kvae import KVAE
from model.training import Trainer

MODELS = Path(__file__).parents[2] / "resources" / "models"
SHIPPED_BOX = MODELS / "box.safetensors"
# fine-tuned from the first box model, which predates the recipe's options

SMALL = dict(frame_size=16, filters=(4, 4), alpha_units=8, batch_size=4, kf_update_steps=1)


def test_defaults_are_the_originals():
    cfg = KVAEConfig()
    assert cfg.decoder_dense_activation == "none"
    assert cfg.init == "xavier"
    assert cfg.optimizer_per_phase is True
    assert cfg.ll_clip == 1e-6
    assert (cfg.activation, cfg.ll_keep_prob, cfg.sample_z) == ("relu", 1.0, False)


def test_new_decoder_has_no_activation_after_its_dense_layer():
    model = KVAE(KVAEConfig())
    dense = list(model.decoder.dense)
    assert isinstance(dense[0], torch.nn.Linear) and dense[0].out_features == 4 * 4 * 32
    assert all(isinstance(layer, torch.nn.Identity) for layer in dense[1:])
    # Negative pre-activations pass through: the decoder's first map can be negative.
    with torch.no_grad():
        h = model.decoder.dense(torch.randn(64, 2))
    assert (h < 0).any()


def test_original_initialisation():
    torch.manual_seed(0)
    model = KVAE(KVAEConfig())
    for layer in [*model.encoder.modules(), *model.decoder.modules()]:
        if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
            fan_in = layer.weight[0].numel()
            fan_out = layer.weight.shape[0] * layer.weight[0, 0].numel()
            bound = math.sqrt(6 / (fan_in + fan_out))
            assert float(layer.weight.abs().max()) <= bound + 1e-7
            assert float(layer.weight.abs().max()) > 0.8 * bound  # uniform, not a narrower law
            assert not layer.bias.any()
    lstm = model.alpha_net.lstm
    hidden = lstm.hidden_size
    assert torch.equal(lstm.bias_ih_l0[hidden : 2 * hidden], torch.ones(hidden))
    assert not lstm.bias_ih_l0[:hidden].any() and not lstm.bias_ih_l0[2 * hidden :].any()
    assert not lstm.bias_hh_l0.any()
    bound = math.sqrt(6 / (lstm.input_size + hidden + 4 * hidden))
    assert float(lstm.weight_hh_l0.abs().max()) <= bound
    # The state space model's matrices start as the spec says, whatever the init.
    assert torch.equal(model.A, torch.eye(4).repeat(3, 1, 1))


def test_torch_init_keeps_pytorchs_defaults():
    model = KVAE(KVAEConfig(init="torch"))
    assert model.decoder.dense[0].bias.abs().sum() > 0  # PyTorch draws biases


def test_ll_clip_is_the_originals_clipped_bernoulli():
    model = KVAE(KVAEConfig(**SMALL))
    logits = torch.tensor([[[[-30.0, -2.0], [0.5, 40.0]]]])
    x = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
    p = torch.sigmoid(logits.double()).clamp(1e-6, 1 - 1e-6)
    reference = (x * p.log() + (1 - x) * (1 - p).log()).sum()
    ours = model.frame_log_likelihood(logits, x).sum()
    assert float(ours) == pytest.approx(float(reference), rel=1e-5)
    exact = KVAE(KVAEConfig(**SMALL, ll_clip=0.0)).frame_log_likelihood(logits, x).sum()
    assert float(exact) == pytest.approx(
        float(-F.binary_cross_entropy_with_logits(logits, x, reduction="sum")), rel=1e-6
    )
    assert float(exact) < float(ours) - 20  # the clip bounds each pixel's loss at ~13.8


def test_ll_keep_prob_drops_frames_in_training_only():
    torch.manual_seed(0)
    model = KVAE(KVAEConfig(**SMALL, ll_keep_prob=0.5))
    kept = KVAE(KVAEConfig(**SMALL))
    kept.load_state_dict(model.state_dict())
    x = (torch.rand(3, 6, 16, 16) > 0.9).float()

    def log_px(m: KVAE, train: bool) -> float:
        m.train(train)
        return float(m.elbo(x, generator=torch.Generator().manual_seed(1)).log_px)

    assert log_px(model, True) != log_px(kept, True)
    assert log_px(model, False) == log_px(kept, False)


def test_sample_z_decodes_the_smoothed_codes():
    torch.manual_seed(0)
    cfg = KVAEConfig(**SMALL, sample_z=True)
    model = KVAE(cfg).eval()
    x = (torch.rand(2, 6, 16, 16) > 0.9).float()
    terms = model.elbo(x, generator=torch.Generator().manual_seed(3))
    # Independently: the same encoder sample, then C_t mu_{t|T} decoded.
    gen = torch.Generator().manual_seed(3)
    mean, var = model.encode(model.prepare_frames(x))
    a = mean + var.sqrt() * torch.randn(mean.shape, generator=gen)
    kp = model.kalman_pass(a, torch.ones(2, 6))
    decoded = (kp.C @ kp.smoothed_mean.unsqueeze(-1)).squeeze(-1)
    expected = model.frame_log_likelihood(model.decode_logits(decoded), x).mean()
    assert float(terms.log_px) == pytest.approx(float(expected), rel=1e-5)


def test_one_adam_per_phase_restarts_the_moments():
    from kvae_reference import box_data
    from trainer_options import cpu_fp32

    images, _ = box_data(8, seed=3)
    trainer = Trainer(images[:, :6], options=cpu_fp32(config=KVAEConfig(**SMALL), seed=0, epochs=3))
    seen = []
    for event in trainer.run():
        if event.kind == "step":
            opt = trainer.optimizer
            steps = [int(s["step"]) for s in opt.state.values()]
            seen.append((event.phase, len(opt.param_groups[0]["params"]), max(steps)))
    # vae+lgssm for 1 epoch (2 steps), then all: a new optimiser whose step count restarts
    # and which holds the alpha network's parameters too.
    phases = [phase for phase, _, _ in seen]
    first_all = phases.index("all")
    assert seen[first_all - 1][2] == first_all and seen[first_all][2] == 1
    assert seen[first_all][1] > seen[first_all - 1][1]

    legacy = Trainer(
        images[:, :6],
        options=cpu_fp32(config=KVAEConfig(**SMALL, optimizer_per_phase=False), seed=0, epochs=3),
    )
    opts = {id(legacy.optimizer)}
    for _ in legacy.run():
        opts.add(id(legacy.optimizer))
    assert len(opts) == 1


def old_recipe_file(path: Path) -> KVAE:
    """A model of the old recipe written as files were before the options existed (its
    config without the new keys); returns the model it holds."""
    torch.manual_seed(0)
    old = KVAE(KVAEConfig(**SMALL, **LEGACY_VALUES))
    save_model(old, path)
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open API)
    stored = json.loads(meta["config"])
    for key in LEGACY_VALUES:
        stored.pop(key)
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata={**meta, "config": json.dumps(stored)})
    return old


def test_a_model_saved_before_the_options_keeps_its_behaviour(tmp_path):
    """A file whose config lacks the new keys loads with the values it was trained with."""
    old = old_recipe_file(tmp_path / "old.safetensors")
    loaded = load_model(tmp_path / "old.safetensors")
    for key, value in LEGACY_VALUES.items():
        assert getattr(loaded.config, key) == value
    a = torch.randn(1, 5, 2)
    with torch.no_grad():
        assert torch.equal(loaded.decode_logits(a), old.decode_logits(a))


def test_a_model_of_the_old_recipe_decodes_through_a_relu(tmp_path):
    """The old recipe's decoder (the models shipped before 2026-12-07): dense + ReLU,
    checked against plain layers."""
    old_recipe_file(tmp_path / "old.safetensors")
    model = load_model(tmp_path / "old.safetensors")
    assert model.config.decoder_dense_activation == "relu"
    assert model.config.ll_clip == 0.0 and model.config.optimizer_per_phase is False
    d = model.decoder
    a = torch.randn(5, 2)
    with torch.no_grad():
        h = torch.relu(F.linear(a, d.dense[0].weight, d.dense[0].bias))
        size = model.config.frame_size
        reference = d.body(h.view(-1, d.channels, d.base, d.base)).view(-1, size, size)
        torch.testing.assert_close(d(a), reference, rtol=1e-5, atol=1e-4)


def test_the_shipped_box_model_has_the_original_recipe():
    """box.safetensors was retrained with the original's recipe: no activation after the
    decoder's dense layer, checked against plain layers."""
    model = load_model(SHIPPED_BOX)
    assert model.config.decoder_dense_activation == "none" and model.config.init == "xavier"
    d = model.decoder
    a = torch.randn(5, 2)
    with torch.no_grad():
        h = F.linear(a, d.dense[0].weight, d.dense[0].bias)
        reference = d.body(h.view(-1, d.channels, d.base, d.base)).view(-1, 32, 32)
        torch.testing.assert_close(d(a), reference, rtol=1e-5, atol=1e-4)
