"""The decoder's fast forward and forward-mode Jacobian equal its layers run plainly.

Decoder.forward rearranges the computation for speed (channels-last maps, the final
1x1 convolution moved before the last depth-to-space); a model trained before that
change must decode exactly as before, so the plain nn.Sequential is the reference.
"""

from __future__ import annotations

import pytest
import torch
from torch.func import jacfwd, vmap

from model.config import KVAEConfig
from model.kvae import KVAE

CONFIGS = {
    "default": dict(),
    "legacy-dense-relu": dict(decoder_dense_activation="relu", init="torch"),
    "tanh": dict(frame_size=16, filters=(4, 4), activation="tanh", decoder_dense_activation="tanh"),
    "elu": dict(frame_size=16, filters=(4, 4), activation="elu", decoder_dense_activation="elu"),
    "sigmoid-mlp": dict(conv=False, frame_size=16, activation="sigmoid"),
    "64px-4-levels": dict(frame_size=64, filters=(8, 16, 8, 4)),
    "kernel-5": dict(frame_size=16, filters=(6, 5), kernel_size=5, dim_a=3),
    "mlp": dict(conv=False, frame_size=16),
}


def plain_decoder(decoder):
    """The decoder as its layers define it: dense, then the Sequential body, NCHW."""
    cfg = decoder.config

    def run(a):
        if cfg.conv:
            h = decoder.dense(a).view(-1, decoder.channels, decoder.base, decoder.base)
            return decoder.body(h).view(-1, cfg.frame_size, cfg.frame_size)
        return decoder.body(a).view(-1, cfg.frame_size, cfg.frame_size)

    return run


def random_decoder(name, dtype=torch.float32):
    torch.manual_seed(0)
    model = KVAE(KVAEConfig(**CONFIGS[name])).to(dtype)
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.normal_(0, 0.4)
    return model.decoder


@pytest.mark.parametrize("name", list(CONFIGS))
def test_forward_equals_the_plain_layers(name):
    decoder = random_decoder(name)
    a = torch.randn(7, decoder.config.dim_a)
    with torch.no_grad():
        ours, ref = decoder(a), plain_decoder(decoder)(a)
    assert ours.shape == ref.shape and ours.is_contiguous()
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5 * float(ref.abs().max()))


def test_forward_equals_the_plain_layers_in_float64():
    decoder = random_decoder("kernel-5", torch.float64)
    a = torch.randn(5, 3, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(decoder(a), plain_decoder(decoder)(a), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["default", "legacy-dense-relu"])
def test_gradients_equal_the_plain_layers(name):
    # float64: in float32 the two orders of summation differ by ~1e-4 of the largest
    # gradient with these large random weights, which would hide nothing but noise.
    decoder = random_decoder(name, torch.float64)
    a = torch.randn(6, 2, requires_grad=True, dtype=torch.float64)
    target = torch.rand(6, 32, 32, dtype=torch.float64)

    def grads(run):
        decoder.zero_grad()
        a.grad = None
        ((run(a) - target).square().sum()).backward()
        return [a.grad.clone()] + [p.grad.clone() for p in decoder.parameters()]

    for ours, ref in zip(grads(decoder), grads(plain_decoder(decoder)), strict=True):
        torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10 * float(ref.abs().max()))


@pytest.mark.parametrize("name", list(CONFIGS))
def test_forward_with_jacobian_equals_autograd(name):
    # float64: in float32 a pre-activation within rounding of a ReLU's kink can take the
    # other side in the two computations and flip one derivative (seen: 1 of 8192).
    decoder = random_decoder(name, torch.float64)
    da = decoder.config.dim_a
    a = torch.randn(4, da, dtype=torch.float64)
    out, jac = decoder.forward_with_jacobian(a)
    plain = plain_decoder(decoder)
    ref_jac = vmap(jacfwd(lambda code: plain(code[None])[0]))(a)  # (N, H, W, da)
    with torch.no_grad():
        ref_out = plain(a)
    assert jac.shape == (da, *ref_out.shape)
    scale = float(ref_out.abs().max())
    torch.testing.assert_close(out, ref_out, rtol=1e-10, atol=1e-10 * scale)
    torch.testing.assert_close(
        jac, ref_jac.permute(3, 0, 1, 2), rtol=1e-9, atol=1e-10 * float(ref_jac.abs().max())
    )
    assert not out.requires_grad


def test_decoder_still_works_under_vmap():
    """torch.func transforms (which have no channels-last) fall back to the plain layers."""
    decoder = random_decoder("default")
    a = torch.randn(3, 2)
    jac = vmap(jacfwd(lambda code: decoder(code[None])[0]))(a)
    assert jac.shape == (3, 32, 32, 2)


def test_encoding_and_decoding_without_gradients_in_pieces_changes_nothing():
    """Without gradients the encoder and decoder take their frames INFERENCE_CHUNK at a
    time (a cache-sized batch): the codes and frames are exactly those of one whole call,
    in the same order."""
    from model import kvae as kvae_module

    torch.manual_seed(0)
    model = KVAE(KVAEConfig()).eval()
    steps = 7
    sequences = 2 * kvae_module.INFERENCE_CHUNK // steps + 3  # several pieces, one short
    x = (torch.rand(sequences, steps, 32, 32) > 0.9).float()
    with torch.enable_grad():  # one call
        mean, var = (t.detach() for t in model.encode(x))
        frames = model.decode_logits(mean).detach()
    with torch.no_grad():  # in pieces
        mean_pieces, var_pieces = model.encode(x)
        frames_pieces = model.decode_logits(mean)
    assert torch.equal(mean, mean_pieces) and torch.equal(var, var_pieces)
    assert torch.equal(frames, frames_pieces)
