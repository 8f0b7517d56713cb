"""--precision bf16: the encoder's and decoder's convolutions in bfloat16, the Kalman
filter and smoother in float32 (where their numerics are tested). Checked on the CPU,
whose autocast has bfloat16 too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kvae_reference import box_data

from model.config import KVAEConfig
from model.training import Trainer, TrainingError

SMALL = dict(frame_size=16, filters=(4, 4), alpha_units=8, batch_size=4, kf_update_steps=1)


def test_bf16_runs_the_convolutions_in_bfloat16_and_the_filter_in_float32():
    images, _ = box_data(8, seed=3)
    trainer = Trainer(images[:, :6], config=KVAEConfig(**SMALL), device="cpu", precision="bf16")
    model = trainer.model
    seen: dict[str, torch.dtype] = {}
    convs = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}

    def record(name):
        def hook(_module, _inputs, out) -> None:
            seen[name] = out.dtype

        return hook

    for name, conv in convs.items():
        conv.register_forward_hook(record(name))
    real_pass = model.kalman_pass

    def kalman_pass(a, mask, *args, **kwargs):
        seen["codes"] = a.dtype
        result = real_pass(a, mask, *args, **kwargs)
        seen["smoothed"] = result.smoothed_cov.dtype
        return result

    model.kalman_pass = kalman_pass
    step = next(trainer.run())
    ran = {name: seen[name] for name in convs if name in seen}
    assert {name.split(".")[0] for name in ran} == {"encoder", "decoder"}, seen
    assert set(ran.values()) == {torch.bfloat16}, seen
    assert seen["codes"] == seen["smoothed"] == torch.float32
    assert np.isfinite(step.terms["elbo"]) and not step.skipped
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_fp32_is_the_default_and_other_precisions_are_refused():
    images, _ = box_data(4, seed=3)
    trainer = Trainer(images[:, :6], config=KVAEConfig(**SMALL), device="cpu")
    assert trainer.model.vae_precision is None
    with pytest.raises(TrainingError, match="unknown precision 'fp16'"):
        Trainer(images[:, :6], config=KVAEConfig(**SMALL), device="cpu", precision="fp16")
