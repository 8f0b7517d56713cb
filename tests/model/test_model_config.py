"""KVAEConfig: JSON round trip, command-line overrides, and every option builds and trains."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from model.config import KVAEConfig
from model.imputation import generate, impute
from model.kvae import KVAE


def test_defaults_are_the_papers():
    cfg = KVAEConfig()
    assert (cfg.dim_a, cfg.dim_z, cfg.dim_u, cfg.K) == (2, 4, 1, 3)
    assert (cfg.init_cov, cfg.noise_transition, cfg.noise_emission) == (20.0, 0.08, 0.03)
    assert (cfg.batch_size, cfg.num_epochs, cfg.init_lr, cfg.kf_update_steps) == (32, 80, 0.007, 10)
    assert cfg.filters == (32, 32, 32) and cfg.alpha_units == 50 and cfg.scale_reconstruction == 0.3


def test_json_round_trip_keeps_every_field_and_type():
    cfg = KVAEConfig(
        frame_size=64,
        K=5,
        filters=(8, 16, 8, 4),
        conv=False,
        output="gaussian",
        learn_u=True,
        alpha_rnn=False,
        fifo_size=3,
        alpha_activation="tanh",
        init_lr=0.001,
        use_vae=False,
    )
    text = cfg.to_json()
    json.loads(text)  # plain JSON, nothing pickled
    back = KVAEConfig.from_json(text)
    assert back == cfg
    assert isinstance(back.filters, tuple)
    assert KVAEConfig.from_json(KVAEConfig().to_json()) == KVAEConfig()


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown config keys: colour"):
        KVAEConfig.from_dict({"K": 2, "colour": "red"})


def test_with_overrides_parses_by_field_type():
    cfg = KVAEConfig().with_overrides(
        [
            "K=5",
            "init_lr=1e-3",
            "conv=false",
            "use_vae=1",
            "filters=16,8",
            "output=gaussian",
            " dim_z = 6 ",
            "learn_u=YES",
            "filters=[8, 8]",
        ]
    )
    assert cfg.K == 5 and isinstance(cfg.K, int)
    assert cfg.init_lr == 0.001 and isinstance(cfg.init_lr, float)
    assert cfg.conv is False and cfg.use_vae is True and cfg.learn_u is True
    assert cfg.filters == (8, 8)  # the later assignment wins
    assert cfg.output == "gaussian" and cfg.dim_z == 6
    assert KVAEConfig().with_overrides([]) == KVAEConfig()


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("colour=red", "known key"),
        ("K", "key=value"),
        ("K=three", "K must be a whole number, got 'three'"),
        ("init_lr=fast", "init_lr must be a number, got 'fast'"),
        ("conv=maybe", "conv must be yes or no"),
        ("filters=a,b", "filters must be whole numbers separated by commas"),
        ("K=0", r"K must be a whole number in \[1, 256\], got 0"),
        ("output=poisson", "output must be"),
        ("frame_size=36", "multiple of 8"),
        ("train_miss_prob=1.5", "train_miss_prob"),
        ("noise_emission=0", r"noise_emission must be a number in \(0, 1000000\], got 0"),
        ("init_lr=-0.1", r"init_lr must be a number in \(0, 1000000\], got -0.1"),
        ("init_lr=nan", r"init_lr must be a number in \(0, 1000000\], got nan"),
        ("batch_size=0", r"batch_size must be a whole number in \[1, 100000\]"),
        ("num_epochs=-3", r"num_epochs must be a whole number in \[1, 1000000\]"),
        ("decay_rate=0", r"decay_rate must be a number in \(0, 1\]"),
        ("decay_epochs=0", r"decay_epochs must be a whole number in \[1, 1000000\]"),
        ("kernel_size=0", r"kernel_size must be a whole number in \[1, 31\]"),
        ("kernel_size=4", "kernel_size must be odd"),
        ("alpha_units=1000000000", r"alpha_units must be a whole number in \[1, 4096\]"),
        ("filters=32,0", r"filters must be whole numbers in \[1, 1024\], got 32, 0"),
        ("train_miss_prob=-0.5", r"train_miss_prob must be a number in \[0, 1\]"),
        ("alpha_activation=gelu", "alpha_activation"),
    ],
)
def test_with_overrides_errors_are_clear(assignment, message):
    with pytest.raises(ValueError, match=message):
        KVAEConfig().with_overrides([assignment])


def test_config_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        KVAEConfig().K = 4  # type: ignore[misc]


SMALL = dict(frame_size=16, filters=(4, 4), alpha_units=8, vae_num_units=10)
OPTIONS = {
    "default-conv": {},
    "mlp": dict(conv=False),
    "gaussian": dict(output="gaussian"),
    "no-vae": dict(use_vae=False),
    "mlp-alpha-fifo3": dict(alpha_rnn=False, fifo_size=3, alpha_activation="elu"),
    "learn_u": dict(learn_u=True),
    "learn_u-mlp-alpha": dict(learn_u=True, alpha_rnn=False, fifo_size=2),
    "K=1": dict(K=1),
    "frame_size=64": dict(frame_size=64, filters=(4, 4, 4)),
    "frame_size=64-default-filters": dict(frame_size=64, filters=(32, 32, 32)),
    "dims": dict(dim_a=3, dim_z=5, dim_u=2, K=4),
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_every_option_builds_and_runs_forward_backward(name):
    torch.manual_seed(0)
    cfg = KVAEConfig(**{**SMALL, **OPTIONS[name]})
    model = KVAE(cfg)
    size, steps = cfg.frame_size, 5
    x = torch.rand(2, steps, size, size)
    mask = torch.tensor([[1, 1, 0, 1, 1], [1, 1, 1, 1, 1]], dtype=torch.float32)
    terms = model.elbo(x, mask)
    assert all(torch.isfinite(v) for v in terms)
    (-terms.elbo).backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    alpha_learns = any(p.grad is not None and p.grad.any() for p in model.alpha_parameters())
    # With K = 1 the softmax is identically 1: the dynamics network has nothing to learn.
    assert alpha_learns == (cfg.K > 1 or cfg.learn_u)
    model.eval()
    res = impute(model, x, mask)
    assert res.x_smoothed.shape == (2, steps, size, size)
    assert res.alpha.shape == (2, steps, cfg.K)
    assert res.a_smoothed_mean.shape == (2, steps, cfg.dim_a)
    assert torch.isfinite(res.x_smoothed).all() and torch.isfinite(res.z_smoothed_cov).all()
    rollout = generate(model, x, n_init=2, steps=7)
    assert rollout.x.shape == (2, 7, size, size) and rollout.z.shape == (2, 7, cfg.dim_z)
    assert torch.isfinite(rollout.x).all()
