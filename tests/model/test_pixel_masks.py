"""Imputation with pixel masks: the limits are exact, and half a ball beats no ball.

Two models are used for "half the ball hidden helps":

* an analytic KVAE, whose decoder renders a disc at the position a encodes and whose
  encoder is the centroid of the lit pixels, with exact constant-velocity dynamics.
  It knows exactly where the ball is, so the test is deterministic, fast (no
  training) and isolates what is under test: the Laplace pseudo-observation and its
  use by the filter. Errors are measured in a-space against the true position.
* the small model trained by the session fixture, which checks the same claim with
  real networks, measured in pixel space (decoded ball centroid against the true
  centre) and averaged over many sequences, with a margin for training noise.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from model.config import KVAEConfig
from model.imputation import Imputation, impute
from model.kvae import KVAE

SIZE, UNIT, RADIUS = 16, 4.0, 2.5


def pixel_grid():
    yy, xx = torch.meshgrid(torch.arange(SIZE) + 0.5, torch.arange(SIZE) + 0.5, indexing="ij")
    return xx, yy


class DiscDecoder(nn.Module):
    """Bernoulli logits of a disc of radius 2.5 px centred at 8 + 4 a (x, y), soft edge."""

    def forward(self, a):
        xx, yy = pixel_grid()
        cx = SIZE / 2 + UNIT * a[:, 0, None, None]
        cy = SIZE / 2 + UNIT * a[:, 1, None, None]
        dist = torch.sqrt((xx - cx) ** 2 + (yy - cy) ** 2 + 1e-6)
        return 6.0 * (RADIUS - dist)


class CentroidEncoder(nn.Module):
    """a = (centroid - 8) / 4 of the lit pixels, with a small fixed variance."""

    def forward(self, frames):
        xx, yy = pixel_grid()
        mass = frames.flatten(1).sum(-1).clamp_min(1e-6)
        cx = (frames * xx).flatten(1).sum(-1) / mass
        cy = (frames * yy).flatten(1).sum(-1) / mass
        mean = (torch.stack([cx, cy], -1) - SIZE / 2) / UNIT
        return mean, torch.full_like(mean, 1e-4)


def analytic_model() -> KVAE:
    """K = 1, z = (position, velocity) in a-units, a = position: the ball's true dynamics."""
    cfg = KVAEConfig(
        frame_size=SIZE, filters=(4, 4), K=1, dim_z=4, noise_transition=0.002, noise_emission=0.002
    )
    model = KVAE(cfg)
    model.encoder, model.decoder = CentroidEncoder(), DiscDecoder()
    with torch.no_grad():
        model.A[0] = torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]])
        model.C[0] = torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0]])
    return model.eval()


def render(centres: np.ndarray) -> torch.Tensor:
    """(B, T, 2) pixel centres -> binary frames (B, T, H, W), as the data generator draws."""
    xx, yy = (g.numpy() for g in pixel_grid())
    c = centres[..., None, None]
    return torch.as_tensor(
        ((xx - c[..., 0, :, :]) ** 2 + (yy - c[..., 1, :, :]) ** 2 <= RADIUS**2).astype(np.float32)
    )


def kicked_track(batch=6, steps=10, seed=0):
    """Straight lines with one kick (a new velocity) at step 5: unpredictable from before."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(5, 11, (batch, 2))
    vel = rng.uniform(-0.6, 0.6, (batch, 2))
    kick = rng.choice([-1.0, 1.0], (batch, 2)) * rng.uniform(0.8, 1.2, (batch, 2))
    out = np.zeros((batch, steps, 2))
    for t in range(steps):
        out[:, t] = pos
        if t == 4:
            vel = kick
        pos = np.clip(pos + vel, 3.5, 12.5)
    return out


def assert_identical(r1: Imputation, r2: Imputation) -> None:
    for name in r1.__dataclass_fields__:
        assert torch.equal(getattr(r1, name), getattr(r2, name)), name


@pytest.fixture(params=["analytic", "trained"])
def any_model(request, trained_box):
    return analytic_model() if request.param == "analytic" else trained_box.model


def test_fully_hidden_frames_equal_missing_frames(any_model, trained_box):
    x = torch.as_tensor(trained_box.test_images[:4])
    mask = torch.ones(4, 10)
    mask[:, 3:6] = 0
    mask[1, 8] = 0
    pixels = mask[:, :, None, None].expand_as(x).clone()
    assert_identical(impute(any_model, x, mask), impute(any_model, x, pixel_mask=pixels))
    # ... also when a frame mask and a pixel mask are combined
    assert_identical(
        impute(any_model, x, mask), impute(any_model, x, mask, pixel_mask=torch.ones_like(x))
    )


def test_all_visible_pixel_mask_equals_observed(any_model, trained_box):
    x = torch.as_tensor(trained_box.test_images[:4])
    assert_identical(impute(any_model, x), impute(any_model, x, pixel_mask=torch.ones_like(x)))


def half_hidden(centres: np.ndarray, t: int, batch: int) -> torch.Tensor:
    """A pixel mask hiding everything left of the ball's centre at step t (half the ball)."""
    pixels = torch.ones(batch, centres.shape[1], SIZE, SIZE)
    for b in range(batch):
        cut = int(np.floor(centres[b, t, 0]))
        pixels[b, t, :, :cut] = 0
    return pixels


def test_half_a_ball_beats_a_missing_frame_analytic():
    track = kicked_track()
    x = render(track)
    model = analytic_model()
    batch, t = len(track), 6
    mask = torch.ones(batch, 10)
    mask[:, 5:] = 0  # the kick happened just before the gap: the prior is wrong at t = 6
    pixels = half_hidden(track, t, batch) * mask[:, :, None, None]
    pixels[:, t] = half_hidden(track, t, batch)[:, t]
    missing = impute(model, x, mask)
    partial = impute(model, x, pixel_mask=pixels)
    truth = (torch.as_tensor(track[:, t], dtype=torch.float32) - SIZE / 2) / UNIT
    err_missing = (missing.a_smoothed_mean[:, t] - truth).norm(dim=-1)
    err_partial = (partial.a_smoothed_mean[:, t] - truth).norm(dim=-1)
    assert partial.frame_mask[:, t].all() and not missing.frame_mask[:, t].any()
    assert (err_missing > 0.15).all()  # > 0.6 px: the gap really hides the kick
    assert (err_partial < 0.25 * err_missing).all(), (err_partial, err_missing)
    assert (err_partial < 0.2).all()  # within 0.8 px of the truth (binary pixels, confident prior)
    # the encoder alone, on the half ball, is biased by about half a radius
    enc_err = (model.encoder(x[:, t] * pixels[:, t])[0] - truth).norm(dim=-1)
    assert (err_partial < enc_err).all()
    # the composite shows the visible pixels untouched and the imputation elsewhere
    shown = pixels[:, t] > 0
    assert torch.equal(partial.x_composite[:, t][shown], x[:, t][shown])


def ball_centroid(frames: torch.Tensor) -> torch.Tensor:
    """Centroid (x, y) in pixels of the decoded ball, weighting pixels by probability."""
    xx, yy = pixel_grid()
    mass = frames.flatten(-2).sum(-1).clamp_min(1e-6)
    return (
        torch.stack([(frames * xx).flatten(-2).sum(-1), (frames * yy).flatten(-2).sum(-1)], -1)
        / mass[..., None]
    )


def test_half_a_ball_beats_a_missing_frame_trained(trained_box):
    model = trained_box.model
    n, t = 32, 6
    x = torch.as_tensor(trained_box.test_images[:n])
    centres = trained_box.test_centres[:n]
    mask = torch.ones(n, 10)
    mask[:, 3:9] = 0
    pixels = mask[:, :, None, None].expand_as(x).clone()
    pixels[:, t] = half_hidden(centres, t, n)[:, t]
    missing = impute(model, x, mask)
    partial = impute(model, x, pixel_mask=pixels)
    truth = torch.as_tensor(centres[:, t])
    err_missing = (ball_centroid(missing.x_smoothed[:, t]) - truth).norm(dim=-1)
    err_partial = (ball_centroid(partial.x_smoothed[:, t]) - truth).norm(dim=-1)
    assert err_partial.mean() < 0.7 * err_missing.mean(), (err_partial.mean(), err_missing.mean())
    assert (err_partial < err_missing).float().mean() > 0.6
    # and in a-space, against the encoder's code of the unoccluded frame
    with torch.no_grad():
        a_true = model.encode(model.prepare_frames(x))[0][:, t]
    da_missing = (missing.a_smoothed_mean[:, t] - a_true).norm(dim=-1)
    da_partial = (partial.a_smoothed_mean[:, t] - a_true).norm(dim=-1)
    assert da_partial.mean() < 0.7 * da_missing.mean()


def test_hidden_background_changes_little(trained_box):
    """Hiding pixels far from the ball keeps the frame's code near the observed one."""
    model = trained_box.model
    n = 16
    x = torch.as_tensor(trained_box.test_images[:n])
    centres = trained_box.test_centres[:n]
    pixels = torch.ones_like(x)
    t = 5
    for b in range(n):  # hide the half of the frame the ball is not in
        if centres[b, t, 0] < SIZE / 2:
            pixels[b, t, :, SIZE // 2 + 3 :] = 0
        else:
            pixels[b, t, :, : SIZE // 2 - 3] = 0
    seen = impute(model, x)
    part = impute(model, x, pixel_mask=pixels)
    missing_mask = torch.ones(n, 10)
    missing_mask[:, t] = 0
    gone = impute(model, x, missing_mask)
    d_part = (part.a_smoothed_mean[:, t] - seen.a_smoothed_mean[:, t]).norm(dim=-1).mean()
    d_gone = (gone.a_smoothed_mean[:, t] - seen.a_smoothed_mean[:, t]).norm(dim=-1).mean()
    assert d_part < d_gone


def test_hidden_pixels_do_not_leak_into_the_estimate(any_model, trained_box):
    """What lies under the hidden pixels must not change anything inferred from the rest
    (only the encoder's code of the whole frame, reported as a reference, may change)."""
    n, t = 8, 6
    x = torch.as_tensor(trained_box.test_images[:n])
    centres = trained_box.test_centres[:n]
    pixels = half_hidden(centres, t, n)
    pixels[:, 3:6] = 0  # and a gap before it
    other = x.clone()
    hidden = pixels[:, t] == 0
    other[:, t][hidden] = 0.0  # the hidden half of the ball erased
    other[:, t, :2][hidden[:, :2]] = 1.0  # and something else drawn where no one can see
    one, two = impute(any_model, x, pixel_mask=pixels), impute(any_model, other, pixel_mask=pixels)
    assert not torch.equal(one.a_encoded[:, t], two.a_encoded[:, t])
    for name in (
        "a_used",
        "z_smoothed_mean",
        "z_smoothed_cov",
        "x_smoothed",
        "x_filtered",
        "x_composite",
    ):
        assert torch.equal(getattr(one, name), getattr(two, name)), name


def test_a_memo_changes_no_number_and_is_reused_by_edits_that_allow_it():
    """Exactly the same numbers with or without a memo, except on a frame painted again,
    whose Newton steps start from its last answer: there, within the solver's tolerance."""
    from model.imputation import ImputeMemo

    torch.manual_seed(3)
    model = KVAE(KVAEConfig(frame_size=16, filters=(4, 4))).eval()
    x = (torch.rand(1, 10, SIZE, SIZE) > 0.8).float()
    mask = torch.ones(1, 10)
    pixels = torch.ones(1, 10, SIZE, SIZE)
    pixels[0, 3, 2:9, 2:12] = 0
    memo = ImputeMemo()
    names = ("a_smoothed_mean", "a_smoothed_cov", "x_smoothed", "x_filtered", "alpha")

    def same(a: Imputation, b: Imputation) -> None:
        for name in names:
            assert torch.equal(getattr(a, name), getattr(b, name)), name

    def close(a: Imputation, b: Imputation) -> None:
        for name in ("x_smoothed", "x_filtered"):
            per_frame = (getattr(a, name) - getattr(b, name)).abs().mean((-1, -2))
            assert per_frame.max() <= 0.005, name
        torch.testing.assert_close(a.a_smoothed_mean, b.a_smoothed_mean, atol=0.05, rtol=0)

    same(impute(model, x, mask, pixels, memo=memo), impute(model, x, mask, pixels))
    assert memo.hits == {"codes": 0, "prior": 0, "rollout": 0, "laplace": 0}
    more = pixels.clone()
    more[0, 3, 10:14, 4:8] = 0  # another stroke on the same frame: codes, prior, a* reused
    close(impute(model, x, mask, more, memo=memo), impute(model, x, mask, more))
    assert memo.hits == {"codes": 1, "prior": 1, "rollout": 0, "laplace": 1}
    other_frame = more.clone()
    other_frame[0, 6, 0:5, 0:5] = 0  # a newly painted frame: the prior pass is new
    close(impute(model, x, mask, other_frame, memo=memo), impute(model, x, mask, other_frame))
    assert memo.hits == {"codes": 2, "prior": 1, "rollout": 0, "laplace": 2}
    moved = x.clone()
    moved[0, 0] = 1 - moved[0, 0]  # other frames: nothing reused
    same(impute(model, moved, mask, more, memo=memo), impute(model, moved, mask, more))
    assert memo.hits == {"codes": 2, "prior": 1, "rollout": 0, "laplace": 2}
    torch.manual_seed(4)
    another = KVAE(KVAEConfig(frame_size=16, filters=(4, 4))).eval()
    same(impute(another, moved, mask, more, memo=memo), impute(another, moved, mask, more))
    assert memo.hits["codes"] == 2, "another model's codes are never taken from the memo"
    assert memo.hits["laplace"] == 2, "nor its answers"


def test_the_pass_after_the_laplace_step_reuses_the_filter_before_the_first_painted_frame(
    monkeypatch,
):
    """The final pass takes the prior pass's filter up to the first painted frame instead
    of filtering those steps again; the answer is the one of a pass over every step."""
    from model import lgssm

    torch.manual_seed(5)
    model = KVAE(KVAEConfig(frame_size=16, filters=(4, 4))).eval()
    x = (torch.rand(2, 10, SIZE, SIZE) > 0.8).float()
    pixels = torch.ones(2, 10, SIZE, SIZE)
    pixels[0, 6, 2:9, 2:12] = 0
    pixels[1, 4, 0:8, :] = 0  # the earliest painted frame of the batch: step 4
    filter_alone = lgssm.kalman_filter
    prefixes = []

    def spy(a, mask, ssm, prefix=None):
        prefixes.append(None if prefix is None else prefix.filtered_mean.shape[1])
        return filter_alone(a, mask, ssm, prefix)

    monkeypatch.setattr(lgssm, "kalman_filter", spy)
    reused = impute(model, x, pixel_mask=pixels)
    assert prefixes == [4]

    monkeypatch.setattr(lgssm, "kalman_filter", lambda a, mask, ssm, prefix=None: spy(a, mask, ssm))
    prefixes.clear()
    whole = impute(model, x, pixel_mask=pixels)
    assert prefixes == [None]
    for name in ("a_smoothed_mean", "a_smoothed_cov", "a_filtered_mean", "x_smoothed", "alpha"):
        torch.testing.assert_close(getattr(reused, name), getattr(whole, name), rtol=0, atol=1e-5)


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_laplace_rows_are_independent_whatever_their_number(frames):
    """Each partly hidden frame's estimate depends on its own pixels and prior only, so
    N frames at once give what N calls of one frame give. (With exactly as many frames
    as code dimensions, a bare identity right-hand side was once read as a batch of
    vectors: two painted frames failed.)"""
    from model.occlusion import laplace_estimates

    torch.manual_seed(1)
    model = KVAE(KVAEConfig(frame_size=16, filters=(4, 4))).eval()
    x = (torch.rand(frames, SIZE, SIZE) > 0.8).float()
    vis = torch.ones(frames, SIZE, SIZE)
    vis[:, 2:9, 2:12] = 0
    mean = torch.randn(frames, 2)
    root = torch.randn(frames, 2, 2)
    cov = root @ root.transpose(1, 2) + 0.5 * torch.eye(2)
    init = torch.randn(frames, 2)
    # Together and alone differ by float32 rounding alone: the batched products sum in
    # another order. Each gradient and Hessian of a row sums SIZE * SIZE pixel terms, whose
    # float32 rounding reaches SIZE * SIZE * eps of the terms' magnitude; a is O(1) (the
    # decoder's unit), so a* may move by that much. pseudo = a* + H^-1 P (a* - m) moves
    # a*'s error by at most 1 + |H^-1| |P| (H^-1 = pseudo_cov - R, P the prior's
    # precision: both read below); pseudo_cov, a sum of the same terms, by the same
    # relative amount.
    noise = SIZE * SIZE * torch.finfo(torch.float32).eps  # 3.1e-5
    with torch.no_grad():
        together = laplace_estimates(model, x, vis, mean, cov, init)
        for i in range(frames):
            one = slice(i, i + 1)
            alone = laplace_estimates(model, x[one], vis[one], mean[one], cov[one], init[one])
            spread = torch.linalg.matrix_norm(alone.pseudo_cov[0] - model.R, ord=2)
            precision = torch.linalg.matrix_norm(torch.linalg.inv(cov[i]), ord=2)
            gain = float(1 + spread * precision)
            for name, atol, rtol in (
                ("a_star", noise, 0.0),
                ("pseudo", gain * noise, 0.0),
                ("pseudo_cov", 0.0, noise),
            ):
                got, want = getattr(together, name)[i : i + 1], getattr(alone, name)
                torch.testing.assert_close(
                    got, want, atol=atol, rtol=rtol, msg=lambda text, name=name: f"{name}: {text}"
                )
