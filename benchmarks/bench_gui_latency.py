"""How quickly the Explore view answers an edit, and whether the GUI stalls meanwhile.

Drives the real studio window offscreen with QTest events (T = 20, 32 x 32 frames):

- latency: from a mask edit (thumbnail click = frame mask; brush stroke = pixel mask)
  to the moment every view holds the new result (`resultShown`), and to the moment the
  event loop has painted it all (until a turn of the loop paints nothing); median and
  p95 in ms, and the model's own time for the update (in its process);
- stall: the longest gap between ticks of a 5 ms QTimer heartbeat while the user paints
  continuously (a stroke every ~150 ms, moves at 60 Hz) and the model re-runs after each;
- reference, measured in the same run on one torch thread (as in the model's process):
  the raw `impute()` call and the full `run_inference()` (impute + generate + metrics),
  with and without the roll-out cache, and the runner's round trip with no window.

    python benchmarks/bench_gui_latency.py [--repeats 30] [--model PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kvae_studio.app import qtsetup


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def wait_for_result(app, explore, timeout_ms: int = 60_000) -> None:
    loop = QEventLoop()
    explore.resultShown.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    explore.resultShown.disconnect(loop.quit)
    while explore.busy:  # a stale answer may have arrived first; wait for the newest
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


def stroke(canvas, points) -> None:
    viewport = canvas.viewport()
    pos = [canvas.widget_position(x, y).toPoint() for x, y in points]
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos[0])
    for p in pos[1:]:
        QTest.mouseMove(viewport, p)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos[-1])


class PaintCounter(QObject):
    """Counts paint events anywhere in the window (every widget and viewport)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def flush_paints(app, counter: PaintCounter) -> None:
    """Run the event loop until a turn paints nothing: queued scene updates become
    viewport updates, which become paints, so one turn is not enough."""
    for _ in range(20):
        before = counter.count
        app.sendPostedEvents()
        app.processEvents()
        if counter.count == before:
            return


class Breakdown:
    """Times the window's own steps of an edit by wrapping them on their instances (the
    views look these up at call time), summed per edit, in ms."""

    def __init__(self, explore) -> None:
        self.parts: dict[str, list[float]] = {}
        self._current: dict[str, float] = {}
        targets = {
            "mask drawn (film strip, canvas)": (explore, "_draw_mask"),
            "request snapshot and send": (explore, "request_inference"),
            "film strip imputed row": (explore.filmstrip, "set_imputed"),
            "result tiles": (explore, "_draw_cells"),
            "metrics panel": (explore.metrics, "show_metrics"),
            "a_t plot": (explore.a_plot, "show_result"),
            "z_t and alpha_t plots": (explore.time_plots, "show_result"),
        }
        for name, (obj, attr) in targets.items():
            setattr(obj, attr, self._timed(name, getattr(obj, attr)))

    def _timed(self, name: str, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                took = (time.perf_counter() - start) * 1000
                self._current[name] = self._current.get(name, 0.0) + took

        return wrapper

    def begin(self) -> None:
        self._current = {}

    def end(self, **extra: float) -> None:
        for name, value in {**self._current, **extra}.items():
            self.parts.setdefault(name, []).append(value)


def measure_edits(app, window, kind: str, repeats: int, breakdown: Breakdown | None = None):
    """(edit -> views updated, edit -> views updated and painted, model time), in ms."""
    explore = window.explore
    strip, canvas = explore.filmstrip, explore.canvas
    updated, painted, worker = [], [], []
    counter = PaintCounter()
    app.installEventFilter(counter)
    clock = QElapsedTimer()
    flush_paints(app, counter)
    for i in range(repeats):
        if breakdown is not None:
            breakdown.begin()
        clock.start()
        if kind == "frame":
            t = 16 + i % 4
            QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.thumb_rect(t).center())
        else:
            y = 4.5 + (i * 3) % 24
            stroke(canvas, [(3.5, y), (12.5, y + 2), (24.5, y)])
        wait_for_result(app, explore)
        updated.append(clock.nsecsElapsed() / 1e6)
        worker.append(explore.result.seconds * 1000)
        flush_paints(app, counter)
        painted.append(clock.nsecsElapsed() / 1e6)
        if breakdown is not None:
            breakdown.end(**{
                "model's process (its own time)": worker[-1],
                "painting (after the views were updated)": painted[-1] - updated[-1],
                "window's share (painted minus the model's time)": painted[-1] - worker[-1],
            })  # fmt: skip
        if kind == "stroke" and i % 4 == 3:
            explore.mask.clear_all()  # keep the paint from covering everything
            explore.mask.set_mask(hidden=explore.mask.hidden)  # no-op: stays one request
            wait_for_result(app, explore)
            flush_paints(app, counter)
    app.removeEventFilter(counter)
    return updated, painted, worker


def measure_stall(app, window, seconds: float) -> tuple[float, int, int]:
    """Longest heartbeat gap (ms) while painting continuously; strokes, results computed
    by the worker, results shown (the others were overtaken by a newer stroke)."""
    explore = window.explore
    canvas = explore.canvas
    viewport = canvas.viewport()
    gaps: list[float] = []
    last = time.perf_counter()

    def beat() -> None:
        nonlocal last
        now = time.perf_counter()
        gaps.append((now - last) * 1000)
        last = now

    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.timeout.connect(beat)
    results, computed = [], []
    explore.resultShown.connect(results.append)
    explore.runner.computed.connect(computed.append)  # including overtaken ones
    state = {"step": 0, "strokes": 0}
    path = [(3.5 + k * 2.5, 6.5 + (k * 7) % 20) for k in range(10)]

    def paint_step() -> None:
        # Strokes alternate paint (left) and erase (right) along one path: each one edits.
        step = state["step"] % 10
        button = Qt.MouseButton.RightButton if state["strokes"] % 2 else Qt.MouseButton.LeftButton
        pos = canvas.widget_position(*path[step]).toPoint()
        if step == 0:
            QTest.mousePress(viewport, button, Qt.KeyboardModifier.NoModifier, pos)
        elif step == 9:
            QTest.mouseRelease(viewport, button, Qt.KeyboardModifier.NoModifier, pos)
            state["strokes"] += 1
        else:
            QTest.mouseMove(viewport, pos)
        state["step"] += 1

    painter = QTimer()
    painter.timeout.connect(paint_step)
    end = time.perf_counter() + seconds
    heartbeat.start(5)
    last = time.perf_counter()
    painter.start(16)
    while time.perf_counter() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 20)
    painter.stop()
    heartbeat.stop()
    explore.resultShown.disconnect(results.append)
    explore.runner.computed.disconnect(computed.append)
    while explore.busy:
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    stall = max(gaps) if gaps else float("nan")
    return stall, state["strokes"], len(computed), len(results)


def reference(model, images, hidden, repeats: int) -> dict[str, list[float]]:
    from kvae_studio.services.inference import InferenceRequest
    from kvae_studio.services.inference_run import run_inference
    from model.imputation import ImputeMemo, impute

    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the model's process
    x = torch.as_tensor(images)[None]
    mask = torch.as_tensor((~hidden).astype(np.float32))[None]
    pixels = torch.ones_like(x)
    pixels[0, 2, 5:12, 3:25] = 0
    out: dict[str, list[float]] = {
        "impute (frame mask)": [],
        "impute (painted)": [],
        "run_inference (frame mask)": [],
        "run_inference, memo warm (frame mask)": [],
    }
    memo = ImputeMemo()
    request = InferenceRequest(0, model, images, (~hidden).astype(np.float32), None)
    impute(model, x, mask, pixels)  # warm up both paths
    run_inference(request)
    for _ in range(repeats):
        t = time.perf_counter()
        impute(model, x, mask)
        out["impute (frame mask)"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        impute(model, x, mask, pixels)
        out["impute (painted)"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        run_inference(request)
        out["run_inference (frame mask)"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        run_inference(request, memo=memo)
        out["run_inference, memo warm (frame mask)"].append((time.perf_counter() - t) * 1000)
    torch.set_num_threads(previous)
    return out


def runner_round_trip(app, model, images, hidden, repeats: int) -> list[float]:
    """submit -> resultReady through the model's process with no window to draw (ms)."""
    from kvae_studio.app.worker import InferenceRunner

    runner = InferenceRunner()
    times = []
    visible = (~hidden).astype(np.float32)
    for _ in range(repeats + 1):
        loop = QEventLoop()
        runner.resultReady.connect(loop.quit)
        start = time.perf_counter()
        runner.submit(model, images, visible, None)
        loop.exec()
        runner.resultReady.disconnect(loop.quit)
        times.append((time.perf_counter() - start) * 1000)
    runner.shutdown()
    return times[1:]  # the first one warms the thread up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--stall-seconds", type=float, default=4.0)
    parser.add_argument("--model", help="a .safetensors model (default: untrained, seeded)")
    parser.add_argument(
        "--dark-theme",
        action="store_true",
        help="the studio's own theme (Fusion, a dark palette, a few style rules), as a user "
        "sees it; without it Qt's default style, as the figures before it were taken",
    )
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings

    from kvae_studio.app.main_window import MainWindow
    from kvae_studio.services.model_loading import fresh_model
    from model.checkpoint import load_model

    app = QApplication.instance() or QApplication([])
    qtsetup.start(app, dark_theme=args.dark_theme)
    model = load_model(args.model).eval() if args.model else fresh_model()
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "kvae-bench", "b")
    window = MainWindow(model, args.model, settings=settings, panels=False, restore_layout=False)
    window.resize(1400, 900)
    window.show()
    window.explore.new_sequence("box", 0, steps=20)
    wait_for_result(app, window.explore)
    window.explore.timeline.set_frame(2)

    rows, breakdowns = [], {}
    for kind, label in (
        ("frame", "thumbnail click (frame mask)"),
        ("stroke", "brush stroke (pixels)"),
    ):
        breakdown = breakdowns[label] = Breakdown(window.explore)
        updated, painted, worker = measure_edits(app, window, kind, args.repeats, breakdown)
        rows.append((f"edit -> views updated: {label}", updated))
        rows.append((f"edit -> views updated and painted: {label}", painted))
        rows.append((f"  of which in the model's process: {label}", worker))
    explore = window.explore
    ref = reference(model, explore.images, explore.mask.hidden.copy(), args.repeats)
    stall, strokes, computed, results = measure_stall(app, window, args.stall_seconds)
    explore.request_inference = lambda: 0  # the same painting with the model switched off
    idle_stall, *_ = measure_stall(app, window, args.stall_seconds)
    ref["runner round trip, no window (frame mask)"] = runner_round_trip(
        app, model, explore.images, explore.mask.hidden.copy(), args.repeats
    )
    window.shutdown()  # not close(): the painted masks are unsaved edits, and close() asks

    print(
        f"KVAE Studio GUI latency, T={explore.steps}, {args.repeats} repeats, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}"
    )
    print(f"{'measurement':58s} {'median ms':>10s} {'p95 ms':>10s}")
    for name, values in rows + [(f"reference: {k}", v) for k, v in ref.items()]:
        print(f"{name:58s} {statistics.median(values):10.1f} {percentile(values, 95):10.1f}")
    for label, breakdown in breakdowns.items():
        print(f"where an edit's time goes, {label} (median ms per edit):")
        for name, values in breakdown.parts.items():
            print(f"  {name:56s} {statistics.median(values):10.1f}")
    model_ms = [
        statistics.median(b.parts["model's process (its own time)"]) for b in breakdowns.values()
    ]
    print(
        f"{'stroke / thumbnail click, model time (target <= 1.3x)':58s} "
        f"{model_ms[1] / model_ms[0]:9.2f}x"
    )
    print(f"{'max event-loop stall while painting (5 ms heartbeat)':58s} {stall:10.1f}")
    print(f"{'  reference: same painting, model switched off':58s} {idle_stall:10.1f}")
    print(
        f"  ({strokes} strokes in {args.stall_seconds:.0f} s: {computed} results computed, "
        f"{results} shown, the rest overtaken by a newer stroke)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
