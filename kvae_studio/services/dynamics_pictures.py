"""Still pictures of a model's dynamics (`services.dynamics` types) for `kvae-studio inspect`:
numpy rasters with OpenCV's text and lines, no Qt, no torch, no plotting library.

Each function returns an RGB uint8 array (H, W, 3); `png_bytes` encodes one. Dark
background and the studio's palette (`kvae_studio.colors`), as in the window.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from kvae_studio import colors
from kvae_studio.services.dynamics import ERROR_KINDS, AlphaMap, ErrorOverTime

FONT = cv2.FONT_HERSHEY_SIMPLEX
BACKGROUND = colors.rgb(colors.BASE)
TEXT = tuple(int(v) for v in colors.rgb(colors.TEXT) * 255)
MUTED = tuple(int(v) for v in colors.rgb(colors.MUTED) * 255)
AXES = tuple(int(v) for v in colors.rgb(colors.BORDER) * 255 * 1.6)
KIND_COLOURS = {
    "generated": colors.GENERATED,
    "filtered": colors.FILTERED,
    "smoothed": colors.SMOOTHED,
    "baseline": colors.BASELINE,
}


def regime_palette(k: int) -> np.ndarray:
    """(K, 3) RGB in [0, 1]: the studio's regime colours, repeated if K is larger."""
    return np.stack([colors.rgb(colors.REGIMES[i % len(colors.REGIMES)]) for i in range(k)])


def png_bytes(picture: np.ndarray) -> bytes:
    """An RGB uint8 picture as PNG bytes."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(picture[..., ::-1]))
    if not ok:
        raise OSError("could not encode a PNG picture")
    return data.tobytes()


def _canvas(height: int, width: int) -> np.ndarray:
    return np.broadcast_to((BACKGROUND * 255).astype(np.uint8), (height, width, 3)).copy()


def _text(img: np.ndarray, text: str, x: int, y: int, colour=TEXT, scale: float = 0.45) -> None:
    cv2.putText(img, text, (int(x), int(y)), FONT, scale, colour, 1, cv2.LINE_AA)


def _text_width(text: str, scale: float = 0.45) -> int:
    return cv2.getTextSize(text, FONT, scale, 1)[0][0]


def _colour255(rgb: np.ndarray) -> tuple[int, int, int]:
    return tuple(round(float(v) * 255) for v in rgb)  # type: ignore[return-value]


def _frame_box(img: np.ndarray, x0: int, y0: int, w: int, h: int) -> None:
    cv2.rectangle(img, (x0 - 1, y0 - 1), (x0 + w, y0 + h), AXES, 1)


def _plot_xy(values, lo: float, hi: float, start: int, length: int, flip: bool = False):
    """Pixel positions of values in [lo, hi] along an axis of `length` pixels."""
    scale = (np.asarray(values, dtype=np.float64) - lo) / max(hi - lo, 1e-12)
    if flip:
        scale = 1.0 - scale
    return start + np.clip(scale, 0.0, 1.0) * (length - 1)


def _legend(img: np.ndarray, items: Sequence[tuple[str, np.ndarray]], x: int, y: int) -> None:
    for label, rgb in items:
        cv2.rectangle(img, (x, y - 9), (x + 10, y + 1), _colour255(rgb), -1)
        _text(img, label, x + 15, y)
        x += 30 + _text_width(label)


def regime_map(
    codes: np.ndarray, alpha: np.ndarray, bounds: tuple[float, float, float, float], size=480
) -> np.ndarray:
    """Every code a_t (dims 0 and 1) as a dot coloured by its regime weights alpha_t:
    alpha mixes the regimes' colours, so a pure colour is one regime and the mixtures
    between show where the network hands over (at the walls for the box)."""
    codes = codes.reshape(-1, codes.shape[-1])
    alpha = alpha.reshape(-1, alpha.shape[-1])
    k = alpha.shape[1]
    margin, top = 50, 40
    img = _canvas(top + size + margin + 10, margin + size + 20)
    x0, y0 = margin, top
    xmin, xmax, ymin, ymax = bounds
    px = _plot_xy(codes[:, 0], xmin, xmax, x0, size).round().astype(int)
    y = codes[:, 1] if codes.shape[1] > 1 else np.zeros(len(codes))
    py = _plot_xy(y, ymin, ymax, y0, size, flip=True).round().astype(int)
    dots = (np.clip(alpha, 0, 1) @ regime_palette(k) * 255).astype(np.uint8)
    for dy in (-1, 0, 1):  # 3 x 3 pixel dots
        for dx in (-1, 0, 1):
            rows = np.clip(py + dy, y0, y0 + size - 1)
            cols = np.clip(px + dx, x0, x0 + size - 1)
            img[rows, cols] = dots
    _frame_box(img, x0, y0, size, size)
    _axis_labels(img, bounds, x0, y0, size, size)
    _text(img, f"regime weights at the codes a_t ({len(codes)} frames)", x0, 18)
    _legend(img, [(f"regime {i}", c) for i, c in enumerate(regime_palette(k))], x0, 34)
    return img


def _axis_labels(img, bounds, x0: int, y0: int, w: int, h: int) -> None:
    xmin, xmax, ymin, ymax = bounds
    _text(img, f"{xmin:.1f}", x0, y0 + h + 16, MUTED, 0.4)
    label = f"{xmax:.1f}"
    _text(img, label, x0 + w - _text_width(label, 0.4), y0 + h + 16, MUTED, 0.4)
    _text(img, "a[0]", x0 + w // 2 - 12, y0 + h + 16, MUTED, 0.4)
    _text(img, f"{ymax:.1f}", x0 - _text_width(f"{ymax:.1f}", 0.4) - 4, y0 + 10, MUTED, 0.4)
    _text(img, f"{ymin:.1f}", x0 - _text_width(f"{ymin:.1f}", 0.4) - 4, y0 + h, MUTED, 0.4)
    _text(img, "a[1]", x0 - 40, y0 + h // 2, MUTED, 0.4)


def alpha_map(amap: AlphaMap, codes: np.ndarray | None = None, panel: int = 256) -> np.ndarray:
    """One panel per regime: alpha_k over the grid, black (0) to the regime's colour (1),
    the data's codes as faint dots for orientation."""
    k = amap.alpha.shape[0]
    palette = regime_palette(k)
    gap, left, top = 16, 50, 44
    img = _canvas(top + panel + 30, left + k * (panel + gap))
    bounds = (float(amap.xs[0]), float(amap.xs[-1]), float(amap.ys[0]), float(amap.ys[-1]))
    for i in range(k):
        x0 = left + i * (panel + gap)
        values = np.clip(amap.alpha[i][::-1], 0.0, 1.0)  # row 0 at the top: the largest y
        big = cv2.resize(values.astype(np.float32), (panel, panel), interpolation=cv2.INTER_NEAREST)
        tile = (big[..., None] * palette[i] * 255).astype(np.uint8)
        if codes is not None and len(codes):
            flat = codes.reshape(-1, codes.shape[-1])
            px = _plot_xy(flat[:, 0], bounds[0], bounds[1], 0, panel).round().astype(int)
            y = flat[:, 1] if flat.shape[1] > 1 else np.zeros(len(flat))
            py = _plot_xy(y, bounds[2], bounds[3], 0, panel, flip=True).round().astype(int)
            tile[py, px] = (0.6 * tile[py, px] + 0.4 * 200).astype(np.uint8)
        img[top : top + panel, x0 : x0 + panel] = tile
        _frame_box(img, x0, top, panel, panel)
        _text(img, f"regime {i}", x0, top - 8, _colour255(palette[i]))
    _axis_labels(img, bounds, left, top, panel, panel)
    if amap.step is not None:
        state = f"the grid point in place of sequence {amap.sequence}'s code at step {amap.step}"
    else:
        state = "network on the grid"
    _text(img, f"alpha_k over a-space ({state})", left, 18)
    return img


def frame_grid(frames: np.ndarray, n_init: int | None = None, scale: int = 1) -> np.ndarray:
    """Sequences as rows of frames (n, T, H, W) in [0, 1], 1 pixel apart, as the original's
    `save_movies_to_frame`; a coloured line after the first n_init frames (what was seen)."""
    n, steps, h, w = frames.shape
    h, w = h * scale, w * scale
    gap = 1
    img = _canvas(n * (h + gap) + gap, steps * (w + gap) + gap)
    for i in range(n):
        for t in range(steps):
            f = np.clip(frames[i, t], 0, 1)
            if scale > 1:
                f = np.kron(f, np.ones((scale, scale), dtype=f.dtype))
            y0, x0 = gap + i * (h + gap), gap + t * (w + gap)
            img[y0 : y0 + h, x0 : x0 + w] = (f[..., None] * 255).astype(np.uint8)
    if n_init is not None and 0 < n_init < steps:
        x = n_init * (w + gap)
        img[:, x] = _colour255(colors.rgb(colors.GENERATED))
    return img


def error_over_time(results: Sequence[ErrorOverTime], width: int = 520, height: int = 300):
    """One panel per mask: each kind's median Hamming distance per step, its quartiles as
    a band; the baseline (a per-sequence figure) as a flat line."""
    left, top, bottom, gap = 56, 46, 36, 24
    img = _canvas(top + len(results) * (height + bottom + gap), left + width + 20)
    for row, res in enumerate(results):
        y0 = top + row * (height + bottom + gap)
        highs = [np.nanmax(v) for v in res.upper_quartile.values() if np.isfinite(v).any()]
        ymax = max([*highs, 1e-3]) * 1.1
        steps = res.steps
        xmax = max(int(steps[-1]), 1)
        xs = _plot_xy(steps, 0, xmax, left, width)
        for level in (0.25, 0.5, 0.75):  # light grid lines, labelled on the left
            y = int(_plot_xy(level * ymax, 0, ymax, y0, height, flip=True))
            cv2.line(img, (left, y), (left + width - 1, y), (40, 42, 46), 1)
            _text(img, f"{level * ymax:.3f}", left - 50, y + 4, MUTED, 0.4)
        _frame_box(img, left, y0, width, height)
        overlay = img.copy()
        for kind in ERROR_KINDS:  # the quartile bands first, translucent, under every line
            colour = _colour255(colors.rgb(KIND_COLOURS[kind]))
            lo, hi = res.lower_quartile[kind], res.upper_quartile[kind]
            for first, last in _runs(np.isfinite(lo) & np.isfinite(hi)):
                xr = xs[first:last]
                if len(xr) == 1:  # one step alone: a short bar
                    xr = np.array([xr[0] - 2, xr[0] + 2])
                    lo_run, hi_run = np.repeat(lo[first], 2), np.repeat(hi[first], 2)
                else:
                    lo_run, hi_run = lo[first:last], hi[first:last]
                upper = np.stack([xr, _plot_xy(hi_run, 0, ymax, y0, height, flip=True)], 1)
                lower = np.stack([xr, _plot_xy(lo_run, 0, ymax, y0, height, flip=True)], 1)
                polygon = np.concatenate([upper, lower[::-1]]).round().astype(np.int32)
                cv2.fillPoly(overlay, [polygon], colour, cv2.LINE_AA)
        img[:] = cv2.addWeighted(overlay, 0.22, img, 0.78, 0)
        for kind in ERROR_KINDS:
            colour = _colour255(colors.rgb(KIND_COLOURS[kind]))
            med = res.median[kind]
            ys = _plot_xy(med, 0, ymax, y0, height, flip=True)
            for first, last in _runs(np.isfinite(med)):
                points = np.stack([xs[first:last], ys[first:last]], 1).round().astype(np.int32)
                cv2.polylines(img, [points], False, colour, 2, cv2.LINE_AA)
                if kind != "baseline":
                    for x, y in points:
                        cv2.circle(img, (int(x), int(y)), 2, colour, -1, cv2.LINE_AA)
        hidden = np.isfinite(res.median["smoothed"])
        for t in np.flatnonzero(hidden):  # hidden steps marked under the axis
            x = int(_plot_xy(steps[t], 0, xmax, left, width))
            red = _colour255(colors.rgb(colors.HIDDEN))
            cv2.line(img, (x - 2, y0 + height + 3), (x + 2, y0 + height + 3), red, 2)
        for t in range(0, xmax + 1, max(1, (xmax + 1) // 10)):
            x = int(_plot_xy(t, 0, xmax, left, width))
            _text(img, str(t), x - 4, y0 + height + 18, MUTED, 0.4)
        _text(img, "0", left - 14, y0 + height, MUTED, 0.4)
        what = f"{int(res.value)} hidden" if res.mask == "planning" else f"drop {res.value:g}"
        _text(img, f"Hamming distance per step, {res.mask} mask ({what})", left, y0 - 8)
        gen, filt = res.median["generated"], res.median["filtered"]
        if np.isfinite(gen).any() and np.allclose(gen, filt, atol=1e-9, equal_nan=True):
            note = "generated = filtered: inside one gap the filter sees no more than the roll-out"
            _text(img, note, left + 8, y0 + 18, MUTED, 0.4)
        label = "step (hidden steps marked red)"
        _text(img, label, left + width - _text_width(label, 0.4), y0 + height + 32, MUTED, 0.4)
    _legend(img, [(k, colors.rgb(KIND_COLOURS[k])) for k in ERROR_KINDS], left, 18)
    return img


def _runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) of each run of True in ok."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def object_probability(truth: np.ndarray, probability: np.ndarray, seen: np.ndarray, scale=4):
    """Two rows: the true frames (hidden ones tinted red) and the share of posterior samples
    showing the object at each pixel."""
    hidden = [np.full(truth.shape[1:], float(s == 0)) for s in seen]
    shown = np.stack([colors.observed_rgb(f, h) for f, h in zip(truth, hidden, strict=True)])
    rows = np.stack([shown, np.repeat(probability[..., None], 3, -1)])  # (2, T, H, W, 3)
    n, steps, h, w = rows.shape[:4]
    h, w, gap, top = h * scale, w * scale, 2, 26
    img = _canvas(top + n * (h + gap), steps * (w + gap) + gap)
    for i in range(n):
        for t in range(steps):
            f = np.kron(np.clip(rows[i, t], 0, 1), np.ones((scale, scale, 1), np.float32))
            y0, x0 = top + i * (h + gap), gap + t * (w + gap)
            img[y0 : y0 + h, x0 : x0 + w] = (f * 255).astype(np.uint8)
    _text(img, "truth (hidden: red) / share of joint posterior samples showing the object", 4, 18)
    return img
