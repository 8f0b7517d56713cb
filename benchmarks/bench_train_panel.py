"""Training through the Train panel against a plain Trainer loop, in the same run.

    python benchmarks/bench_train_panel.py [--sequences N] [--epochs E] [--repeats R]

Rows:
  sequences/s   over the run's steps (wall clock from the end of the first step to the
                end of the last, so start-up is not counted) for
                - the plain `Trainer.run()` loop on the main thread;
                - the panel's training process (a `BackgroundJob`: its own process, at a
                  lower priority), the panel shown offscreen with its curves and status
                  line updating; target: >= 90 % of the plain loop;
                - the same with a 10 ms QTimer heartbeat on the GUI thread, the probe of
                  the next rows: what a busy GUI thread costs training.
  GUI stall     from that heartbeat: the largest gap between two ticks minus 10 ms
                (and the 99th percentile), i.e. how long the event loop could not run.
  painting      the whole studio window: its Train panel trains while a user paints in
                Explore (strokes at 60 Hz moves, the model re-run after each), measured
                as in bench_gui_latency.py: the longest gap of a 5 ms heartbeat, beside
                the same painting with no training. Target: no stall over 100 ms.

All use the paper's model and batch size 32, the same precision (`auto`, the panel's)
and torch thread count (`--threads`, default the panel's) and no test set; the three
runs alternate R times and medians are printed with their ranges, since the 2-core
machines are shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_gui_latency's helpers

import numpy as np
import torch
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from kvae_studio.app import pyside_fix, qtsetup
from kvae_studio.app.panels.train_panel import TrainPanel
from kvae_studio.app.panels.train_settings import default_threads
from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.sim import simulate
from model.config import KVAEConfig
from model.data import save_sequences
from model.training import Trainer
from model.training_options import TrainingOptions

HEARTBEAT_MS = 10


def rate(times: list[float], batch: int) -> float:
    """Sequences per second between the first and the last step's end."""
    if len(times) < 2:
        return float("nan")
    return batch * (len(times) - 1) / (times[-1] - times[0])


def plain_run(images: np.ndarray, config: KVAEConfig, threads: int) -> float:
    torch.set_num_threads(threads)
    trainer = Trainer(images, None, TrainingOptions(config=config, device="cpu", precision="auto"))
    times = [time.perf_counter() for e in trainer.run() if e.kind == "step"]
    return rate(times, config.batch_size)


def panel_run(
    workspace: Workspace, config: KVAEConfig, threads: int, name: str, heartbeat: bool
) -> tuple[float, list[float]]:
    """Train through a shown TrainPanel; returns (sequences/s, heartbeat gaps in ms)."""
    panel = TrainPanel(workspace)
    panel.resize(1200, 800)
    panel.show()
    panel.settings.form.set_values(
        {"batch_size": config.batch_size, "num_epochs": config.num_epochs}
    )
    panel.settings.test_combo.set_path(None)
    panel.settings.threads_spin.setValue(threads)
    panel.settings.device_combo.setCurrentIndex(panel.settings.device_combo.findData("cpu"))
    panel.settings.name_edit.setText(name)

    times: list[float] = []
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        if times:  # from the first step on: start-up (imports, data loading) is not training
            gaps.append((now - last[0]) / 1e6)
        last[0] = now

    timer = QTimer(interval=HEARTBEAT_MS)
    timer.timeout.connect(tick)
    if heartbeat:
        timer.start()
    panel.start()
    panel.job.item.connect(
        lambda e: times.append(time.perf_counter()) if getattr(e, "kind", "") == "step" else None
    )
    loop = QEventLoop()
    panel.job.finished.connect(loop.quit)
    loop.exec()
    timer.stop()
    if panel.message.is_error:
        raise RuntimeError(panel.message.text())
    panel.close()
    panel.deleteLater()
    return rate(times, config.batch_size), gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=256, help="training sequences")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--threads", type=int, default=default_threads())
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    qtsetup.start(app, dark_theme=False)
    config = KVAEConfig(batch_size=32, num_epochs=args.epochs)
    images, state = simulate("box", args.sequences, 20, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp))
        workspace.datasets_dir.mkdir(parents=True)
        save_sequences(workspace.datasets_dir / "bench-train.npz", images, state)
        workspace.notify_datasets()
        plain, panel, beat = [], [], []
        stalls, p99s = [], []
        for r in range(args.repeats):
            plain.append(plain_run(images, config, args.threads))
            panel.append(panel_run(workspace, config, args.threads, f"p{r}", False)[0])
            speed, gaps = panel_run(workspace, config, args.threads, f"h{r}", True)
            beat.append(speed)
            stalls.append(max(gaps) - HEARTBEAT_MS)
            p99s.append(float(np.percentile(gaps, 99)) - HEARTBEAT_MS)

    med = statistics.median
    p = med(plain)
    print(
        f"\nTrain panel benchmark: {args.sequences} sequences x {args.epochs} epoch(s), "
        f"batch 32, {args.threads} torch thread(s), {args.repeats} alternating repeats "
        f"(medians; min..max beside), PySide6 workaround {'on' if pyside_fix._applied else 'off'}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    rows = [
        ("plain Trainer loop", plain),
        ("panel's training process", panel),
        (f"panel + {HEARTBEAT_MS} ms heartbeat", beat),
    ]
    print(f"{'sequences per second':34s} {'median':>8s} {'vs plain':>9s}   range")
    for name, values in rows:
        ratio = f"{100 * med(values) / p:8.1f}%"
        print(f"{name:34s} {med(values):8.1f} {ratio:>9s}   {min(values):.1f}..{max(values):.1f}")
    print(f"\n{'GUI event loop while training':34s} {'median':>8s} {'worst':>9s}")
    print(f"{'max stall (ms)':34s} {med(stalls):8.1f} {max(stalls):9.1f}")
    print(f"{'99th percentile delay (ms)':34s} {med(p99s):8.1f} {max(p99s):9.1f}")
    target = "met" if med(panel) >= 0.9 * p else "NOT met"
    print(f"\nthroughput target (panel's process >= 90% of plain): {target}")

    idle, busy, steps = painting_while_training(images, state, args.threads)
    print(f"\n{'painting in Explore (max stall, ms)':44s} {'alone':>8s} {'training':>9s}")
    print(f"{'  5 ms heartbeat, strokes re-run the model':44s} {idle:8.1f} {busy:9.1f}")
    print(f"  ({steps} training steps ran during the painting)")
    target = "met" if busy <= 100 else "NOT met"
    print(f"stall target (<= 100 ms while training): {target}")


def painting_while_training(
    images: np.ndarray, state: np.ndarray, threads: int, seconds: float = 6.0
) -> tuple[float, float, int]:
    """Max event-loop stall (ms) while painting in Explore, alone and while training."""
    from bench_gui_latency import measure_stall, wait_for_result
    from PySide6.QtCore import QSettings

    from kvae_studio.app.main_window import MainWindow
    from kvae_studio.services.model_loading import fresh_model

    app = QApplication.instance()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KVAE_STUDIO_HOME"] = tmp
        workspace = Workspace(Path(tmp))
        workspace.datasets_dir.mkdir(parents=True, exist_ok=True)
        save_sequences(workspace.datasets_dir / "paint-train.npz", images, state)
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(fresh_model(), None, settings=settings, restore_layout=False)
        window.resize(1400, 900)
        window.show()
        window.explore.new_sequence("box", 0, steps=20)
        wait_for_result(app, window.explore)
        idle, *_ = measure_stall(app, window, seconds)

        train = dict(window.panels)["Train"]
        train.workspace.notify_datasets()
        train.settings.form.set_values({"batch_size": 32, "num_epochs": 50})
        train.settings.test_combo.set_path(None)
        train.settings.threads_spin.setValue(threads)
        train.settings.device_combo.setCurrentIndex(train.settings.device_combo.findData("cpu"))
        train.settings.name_edit.setText("paint")
        steps: list[int] = []
        train.start()
        train.job.item.connect(
            lambda e: steps.append(1) if getattr(e, "kind", "") == "step" else None
        )
        loop = QEventLoop()
        QTimer.singleShot(3000, loop.quit)  # let training get going first
        loop.exec()
        before = len(steps)
        busy, *_ = measure_stall(app, window, seconds)
        during = len(steps) - before
        job = train.job
        train.stop()
        if job is not None and job.is_running():
            loop = QEventLoop()
            job.finished.connect(loop.quit)
            QTimer.singleShot(30_000, loop.quit)
            loop.exec()
        window.shutdown()  # not close(): the painted masks are unsaved edits, and close() asks
    return idle, busy, during


if __name__ == "__main__":
    main()
