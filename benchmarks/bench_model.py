"""Speed of the KVAE's hot paths, ours against a plain reference timed in the same run.

    python benchmarks/bench_model.py [--repeats N] [--device cpu|cuda|all] [--quick]

Rows (targets are for the 2-core CPU machines; on CUDA they are informative):
  (a) filter + smoother with the LSTM dynamics network, no grad, B=1, T=20 and T=200,
      once with every frame seen (one LSTM call) and once with frames missing (the
      LSTM is stepped inside the filter). Reference: a straightforward PyTorch
      version with torch.distributions.MultivariateNormal and torch.inverse per step.
  (b) interactive imputation `impute`, B=1, T=20: a planning frame mask, and a pixel
      mask hiding half the ball in 5 frames (Laplace pseudo-observations).
      Reference (frame mask): the naive pass above, then the filtered, smoothed and
      encoded codes decoded by the decoder's layers run plainly. The ratio of the two
      masks is the median of pairs of calls timed back to back.
  (c) training throughput, B=32, T=20, 32x32, sequences per second (one Adam step of
      the full ELBO). Reference: the convolutions alone (encoder + decoder forward
      and backward) as the layers define them, in the default and in the channels_last
      memory format; and the same through our Encoder/Decoder modules, whose decoder
      is arranged for speed (so it can beat the plain reference).

Each figure is the median over repeats (after warm-up); the spread printed beside it
is the inter-quartile range, a measure of the noise of a shared machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.distributions import MultivariateNormal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.config import KVAEConfig
from model.imputation import impute
from model.kvae import KVAE
from model.masks import planning_mask


# ----------------------------------------------------------------------------- data
def ball_frames(batch: int, steps: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """Bouncing discs of radius 3 in a box, (B, T, H, W) in {0, 1}; positions (B, T, 2)."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(6, size - 6, (batch, 2))
    angle = rng.uniform(0, 2 * np.pi, batch)
    vel = rng.uniform(10, 15, batch)[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    frames = np.zeros((batch, steps, size, size), np.float32)
    centres = np.zeros((batch, steps, 2), np.float32)
    for t in range(steps):
        centres[:, t] = pos
        d2 = (xx[None] - pos[:, 0, None, None]) ** 2 + (yy[None] - pos[:, 1, None, None]) ** 2
        frames[:, t] = d2 <= 9.0
        pos = pos + 0.2 * vel
        for axis in range(2):
            low, high = pos[:, axis] < 5, pos[:, axis] > size - 5
            vel[low | high, axis] *= -1
            pos[:, axis] = np.clip(pos[:, axis], 5, size - 5)
    return frames, centres


# ----------------------------------------------------------------------------- reference
def reference_kalman_pass(model: KVAE, a: torch.Tensor, mask: torch.Tensor):
    """A textbook version: per step LSTM, einsum mix, torch.inverse, MultivariateNormal."""
    batch, steps = a.shape[:2]
    lstm, head = model.alpha_net.lstm, model.alpha_net.alpha_head
    state = None
    inp = model.a0.expand(batch, -1)
    mean, cov = model.mu0.expand(batch, -1), model.Sigma0.expand(batch, -1, -1)
    eye = torch.eye(model.config.dim_z, device=a.device)
    pm, pc, fm, fc, As, Cs, log_lik = [], [], [], [], [], [], 0.0
    for t in range(steps):
        h, state = lstm(inp.unsqueeze(1), state)
        alpha = torch.softmax(head(h[:, 0]), -1)
        A = torch.einsum("bk,kij->bij", alpha, model.A)
        C = torch.einsum("bk,kij->bij", alpha, model.C)
        if t > 0:
            mean = (A @ mean.unsqueeze(-1)).squeeze(-1)
            cov = A @ cov @ A.transpose(1, 2) + model.Q
        pm.append(mean)
        pc.append(cov)
        As.append(A)
        Cs.append(C)
        pred = (C @ mean.unsqueeze(-1)).squeeze(-1)
        S = C @ cov @ C.transpose(1, 2) + model.R
        S = 0.5 * (S + S.transpose(1, 2))
        log_lik = log_lik + (MultivariateNormal(pred, S).log_prob(a[:, t]) * mask[:, t]).sum()
        gain = cov @ C.transpose(1, 2) @ torch.inverse(S) * mask[:, t, None, None]
        mean = mean + (gain @ (a[:, t] - pred).unsqueeze(-1)).squeeze(-1)
        cov = (eye - gain @ C) @ cov
        fm.append(mean)
        fc.append(cov)
        m = mask[:, t, None]
        inp = m * a[:, t] + (1 - m) * pred
    means, covs = [fm[-1]], [fc[-1]]
    for t in range(steps - 2, -1, -1):
        J = fc[t] @ As[t + 1].transpose(1, 2) @ torch.inverse(pc[t + 1])
        means.insert(0, fm[t] + (J @ (means[0] - pm[t + 1]).unsqueeze(-1)).squeeze(-1))
        covs.insert(0, fc[t] + J @ (covs[0] - pc[t + 1]) @ J.transpose(1, 2))
    C = torch.stack(Cs, 1)
    filtered = (C @ torch.stack(fm, 1).unsqueeze(-1)).squeeze(-1)
    return torch.stack(means, 1), torch.stack(covs, 1), log_lik, C, filtered


def plain_decode(model: KVAE, a: torch.Tensor) -> torch.Tensor:
    """The decoder's layers run as defined (dense, nn.Sequential body), then a sigmoid."""
    d, size = model.decoder, model.config.frame_size
    h = d.dense(a.flatten(0, 1)).view(-1, d.channels, d.base, d.base)
    return torch.sigmoid(d.body(h)).view(*a.shape[:2], size, size)


def reference_impute(model: KVAE, x: torch.Tensor, mask: torch.Tensor):
    """Encode, the naive pass above, and decode filtered, smoothed and encoded codes."""
    frames = model.prepare_frames(x)
    a, _ = model.encode(frames)
    mean, _, _, C, a_filtered = reference_kalman_pass(model, a, mask)
    a_smoothed = (C @ mean.unsqueeze(-1)).squeeze(-1)
    return [plain_decode(model, code) for code in (a_filtered, a_smoothed, a)]


def conv_step(model: KVAE, x: torch.Tensor, channels_last: bool) -> None:
    """The encoder's and decoder's layers alone, run plainly (nn.Sequential), fwd + bwd."""
    frames = x.flatten(0, 1).unsqueeze(1)
    enc = model.encoder.features
    if channels_last:
        frames = frames.contiguous(memory_format=torch.channels_last)
    h = enc(frames)
    a = model.encoder.mean(h)
    d = model.decoder
    hd = d.dense(a).view(-1, d.channels, d.base, d.base)
    if channels_last:
        hd = hd.contiguous(memory_format=torch.channels_last)
    out = d.body(hd)
    out.square().mean().backward()


def conv_step_ours(model: KVAE, x: torch.Tensor) -> None:
    """The same through the model's own Encoder and Decoder modules (their fast forward)."""
    a, _ = model.encoder(x.flatten(0, 1))
    model.decoder(a).square().mean().backward()


# ----------------------------------------------------------------------------- timing
def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


CLOCK = time.perf_counter


def timed(fn, device, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """Median and inter-quartile range of fn's time (wall, or CPU with --clock cpu), seconds."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = CLOCK()
        fn()
        sync(device)
        times.append(CLOCK() - start)
    q = statistics.quantiles(times, n=4) if len(times) >= 4 else [min(times), 0, max(times)]
    return statistics.median(times), q[2] - q[0]


def fmt_ms(t: tuple[float, float]) -> str:
    return f"{1e3 * t[0]:8.2f} ms ±{1e3 * t[1]:5.2f}"


def fmt_rate(n: int, t: tuple[float, float]) -> str:
    med, iqr = t
    lo, hi = n / (med + iqr / 2), n / max(med - iqr / 2, 1e-9)
    return f"{n / med:8.1f} seq/s ({lo:.0f}-{hi:.0f})"


def bench_device(device: torch.device, repeats: int, parts: str) -> list[tuple[str, str, str, str]]:
    torch.manual_seed(0)
    rows = []
    model = KVAE(KVAEConfig()).to(device).eval()
    for p in model.alpha_net.parameters():  # a dynamics network that does something
        torch.nn.init.normal_(p, std=0.3)
    with torch.no_grad():  # rotations: stable regimes, so long gaps stay well conditioned
        skew = 0.2 * torch.randn_like(model.A)
        model.A.copy_(torch.linalg.matrix_exp(skew - skew.transpose(1, 2)))

    # (a) filter + smoother
    for steps, target in ((20, "≤ 4 ms"), (200, "≤ 40 ms")) if "a" in parts else ():
        a = torch.randn(1, steps, 2, device=device)
        full = torch.ones(1, steps, device=device)
        gaps = full.clone()
        gaps[:, steps // 5 : steps // 5 + 3 * steps // 5] = 0
        reps = repeats if steps == 20 else max(5, repeats // 4)
        for label, mask in (("all seen", full), ("gap", gaps)):
            with torch.inference_mode():
                ours = timed(lambda m=mask, a=a: model.kalman_pass(a, m), device, reps)
                ref = timed(lambda m=mask, a=a: reference_kalman_pass(model, a, m), device, reps)
            rows.append(
                (f"(a) filter+smoother T={steps} {label}", fmt_ms(ours), fmt_ms(ref), target)
            )

    # (b) interactive imputation
    if "b" in parts:
        rows += bench_imputation(model, device, repeats)
    # (c) training throughput
    if "c" in parts:
        rows += bench_training(device, repeats)
    return rows


def bench_imputation(model: KVAE, device: torch.device, repeats: int) -> list:
    rows = []
    frames, centres = ball_frames(1, 20, seed=1)
    x = torch.as_tensor(frames, device=device)
    fmask = torch.as_tensor(planning_mask(20), device=device)[None]
    ours = timed(lambda: impute(model, x, fmask), device, repeats)
    with torch.inference_mode():
        ref = timed(lambda: reference_impute(model, x, fmask), device, repeats)
    rows.append(("(b) impute B=1 T=20 frame mask", fmt_ms(ours), fmt_ms(ref), "≤ 15 ms"))
    pix = torch.ones_like(x)
    for t in range(6, 11):  # hide the left half of the ball in 5 frames
        cx = round(float(centres[0, t, 0]))
        pix[0, t, :, : max(cx, 0)] = 0
    impute(model, x, pixel_mask=pix)  # the decoder's table is built once per model
    ours = timed(lambda: impute(model, x, pixel_mask=pix), device, repeats)
    rows.append(("(b) impute B=1 T=20 pixel mask 5 frames", fmt_ms(ours), "", "≤ 60 ms"))
    ratio = paired_ratio(
        lambda: impute(model, x, pixel_mask=pix), lambda: impute(model, x, fmask), device, repeats
    )
    rows.append(("(b) pixel mask 5 frames / frame mask", fmt_ratio(ratio), "1.00x", "≤ 2x"))
    return rows


def paired_ratio(fn, reference, device, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """Median and inter-quartile range of fn's time over reference's, each pair timed
    back to back (the order alternating): a ratio of two medians taken one after the
    other moves with whatever the shared machine did in between, a pair's ratio less."""
    for _ in range(warmup):
        fn()
        reference()
    sync(device)
    ratios = []
    for i in range(repeats):
        pair = {}
        for name, f in (("fn", fn), ("ref", reference))[:: 1 if i % 2 == 0 else -1]:
            start = CLOCK()
            f()
            sync(device)
            pair[name] = CLOCK() - start
        ratios.append(pair["fn"] / pair["ref"])
    q = statistics.quantiles(ratios, n=4) if len(ratios) >= 4 else [min(ratios), 0, max(ratios)]
    return statistics.median(ratios), q[2] - q[0]


def fmt_ratio(t: tuple[float, float]) -> str:
    return f"{t[0]:8.2f}x ±{t[1]:5.2f}"


def bench_training(device: torch.device, repeats: int) -> list:
    rows = []
    train_model = KVAE(KVAEConfig()).to(device).train()
    opt = torch.optim.Adam(train_model.parameters(), lr=1e-3)
    xb = torch.as_tensor(ball_frames(32, 20, seed=2)[0], device=device)
    gen = torch.Generator(device=device).manual_seed(0)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = -train_model.elbo(xb, generator=gen).elbo
        loss.backward()
        torch.nn.utils.clip_grad_norm_(train_model.parameters(), 150.0)
        opt.step()

    reps = max(5, repeats // 4)
    ours = timed(train_step, device, reps, warmup=2)
    conv = timed(lambda: conv_step(train_model, xb, False), device, reps, warmup=2)
    conv_cl = timed(lambda: conv_step(train_model, xb, True), device, reps, warmup=2)
    conv_ours = timed(lambda: conv_step_ours(train_model, xb), device, reps, warmup=2)
    rows.append(("(c) train B=32 T=20 32x32", fmt_rate(32, ours), fmt_rate(32, conv), "≥ 55 seq/s"))
    rows.append(("(c)   reference channels_last", "", fmt_rate(32, conv_cl), ""))
    rows.append(("(c)   convs alone, our Encoder/Decoder", fmt_rate(32, conv_ours), "", ""))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--device", default="all", choices=["cpu", "cuda", "all"])
    parser.add_argument(
        "--parts", default="abc", help="which parts to run, e.g. 'ab' (default: abc)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: this thread's CPU time, which ignores other processes' load "
        "(only meaningful with --threads 1 on CPU)",
    )
    args = parser.parse_args()
    global CLOCK
    if args.clock == "cpu":
        CLOCK = time.thread_time
        if args.threads != 1:
            parser.error("--clock cpu needs --threads 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = []
    if args.device in ("cpu", "all"):
        devices.append(torch.device("cpu"))
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {args.clock} clock")
    header = f"{'benchmark':44s} {'ours':>24s} {'reference':>24s}  target"
    for device in devices:
        print(f"\n== {device.type} ==")
        print(header)
        print("-" * len(header))
        for name, ours, ref, target in bench_device(device, args.repeats, args.parts):
            print(f"{name:44s} {ours:>24s} {ref:>24s}  {target}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
