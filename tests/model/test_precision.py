"""--precision bf16: the encoder's and decoder's convolutions in bfloat16, the Kalman
filter and smoother in float32 (where their numerics are tested). Checked on the CPU,
whose autocast has bfloat16 too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kvae_reference import box_data
from trainer_options import cpu_fp32

from model.config import KVAEConfig
from model.training import Trainer, TrainingError

SMALL = dict(frame_size=16, filters=(4, 4), alpha_units=8, batch_size=4, kf_update_steps=1)


def test_bf16_runs_the_convolutions_in_bfloat16_and_the_filter_in_float32():
    images, _ = box_data(8, seed=3)
    trainer = Trainer(images[:, :6], options=cpu_fp32(config=KVAEConfig(**SMALL), precision="bf16"))
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


@pytest.mark.parametrize("conv", [True, False])
def test_bf16_keeps_the_codes_in_float32(conv):
    """Only the convolutions (or hidden dense layers) run in bf16: a code made in bf16
    would hold 8 bits of mantissa (every value would survive a round trip through bf16
    unchanged), and the decoder's first dense layer reads the code in float32, not
    rounded to bf16."""
    images, _ = box_data(4, seed=3)
    config = KVAEConfig(**SMALL, conv=conv)
    trainer = Trainer(images[:, :6], options=cpu_fp32(config=config, precision="bf16"))
    model = trainer.model.eval()
    assert model.vae_precision == torch.bfloat16
    seen = {}
    reader = model.decoder.dense[0] if conv else model.decoder.body[0]
    reader.register_forward_hook(
        lambda _m, inputs, out: seen.update(read=inputs[0].dtype, made=out.dtype)
    )
    with torch.no_grad():
        mean, var = model.encode(torch.as_tensor(images[:, :6]))
        logits = model.decode_logits(mean)

    def bf16_exact(t: torch.Tensor) -> float:
        return float((t == t.to(torch.bfloat16).float()).float().mean())

    assert bf16_exact(mean) < 0.5 and bf16_exact(var) < 0.5
    assert seen == {"read": torch.float32, "made": torch.float32}
    if conv:
        assert bf16_exact(logits) == 1.0  # the 1x1 head stays bf16 (model.networks._float32)
    model.vae_precision = None  # the same weights in float32 throughout: close to it
    with torch.no_grad():
        assert torch.allclose(model.encode(torch.as_tensor(images[:, :6]))[0], mean, atol=0.05)


def test_fp32_is_the_default_and_other_precisions_are_refused():
    images, _ = box_data(4, seed=3)
    trainer = Trainer(images[:, :6], options=cpu_fp32(config=KVAEConfig(**SMALL)))
    assert trainer.model.vae_precision is None
    with pytest.raises(TrainingError, match="unknown precision 'fp16'"):
        Trainer(images[:, :6], options=cpu_fp32(config=KVAEConfig(**SMALL), precision="fp16"))


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2", "avx512f", "avx512_bf16"}, ("bf16", "the CPU has avx512_bf16")),
        ({"avx2", "amx_bf16", "amx_tile"}, ("bf16", "the CPU has amx_bf16")),
        ({"avx2", "avx512f", "avx512bw"}, ("fp32", "no native bf16")),  # emulated: slower
        (set(), ("fp32", "no native bf16")),  # not Linux, or no flags line
    ],
)
def test_auto_takes_bf16_only_where_the_cpu_does_it_natively(monkeypatch, flags, expected):
    from model import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    chosen, why = precision.resolve_precision("auto", torch.device("cpu"))
    assert chosen == expected[0] and expected[1] in why
    assert precision.resolve_precision("fp32", torch.device("cpu"))[0] == "fp32", "as asked"


@pytest.mark.parametrize(
    ("name", "flags", "threads", "expected"),
    [
        ("AMD EPYC", {"avx2", "avx512_bf16"}, 1, "AMD EPYC, avx512_bf16, 1 thread"),
        ("Intel Xeon Gold 6338", {"avx2", "avx512f"}, 2, "Intel Xeon Gold 6338, 2 threads"),
        ("", set(), 2, "a CPU, 2 threads"),  # no /proc/cpuinfo
    ],
)
def test_the_machine_line_names_the_cpu_its_native_bf16_and_threads(
    monkeypatch, name, flags, threads, expected
):
    """A VM may show only the CPU's family; the bf16 flag says why a run was as fast as it was."""
    from model import precision

    monkeypatch.setattr(precision, "cpu_model", lambda: name)
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    assert precision.describe_machine(torch.device("cpu")) == expected


def test_a_trainer_on_auto_says_what_it_took_and_the_model_file_records_it(tmp_path, monkeypatch):
    from model import precision
    from model.model_file import read_summary

    images, _ = box_data(8, seed=3)
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    config = KVAEConfig(**SMALL, num_epochs=1)
    trainer = Trainer(
        images[:, :6], options=cpu_fp32(config=config, precision="auto", run_dir=tmp_path)
    )
    assert (trainer.precision, trainer.model.vae_precision) == ("bf16", torch.bfloat16)
    list(trainer.run())
    assert read_summary(tmp_path / "model.safetensors")["precision"] == "bf16"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset())
    trainer = Trainer(images[:, :6], options=cpu_fp32(config=config, precision="auto"))
    assert (trainer.precision, trainer.model.vae_precision) == ("fp32", None)


def test_the_command_line_defaults_to_auto_and_says_what_it_took(tmp_path):
    import subprocess
    import sys

    from model.data import save_sequences

    images, _ = box_data(8, seed=3)
    save_sequences(tmp_path / "train.npz", images[:, :6, :16, :16])
    done = subprocess.run(
        [sys.executable, "-m", "kvae_studio", "train", str(tmp_path / "train.npz"),
         "--out", str(tmp_path / "run"), "--epochs", "1", "--frame-size", "16",
         "--filters", "4,4", "--alpha-units", "8", "--batch-size", "4"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    from model.precision import resolve_precision

    chosen, why = resolve_precision("auto", torch.device("cpu"))
    assert f"training on cpu in {chosen} ({why})" in done.stderr
