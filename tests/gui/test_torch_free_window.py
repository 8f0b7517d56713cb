"""The window starts without torch: the shipped model is described from its file's
header, the model's process loads it and answers, and only that process imports torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_START = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"

def main():
    from kvae_studio.services.inference_process import start_spare
    start_spare()
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication
    from kvae_studio.app import qtsetup
    from kvae_studio.app.main import start_model
    from kvae_studio.app.main_window import MainWindow
    from kvae_studio.app.settings import AppSettings
    app = QApplication([])
    qtsetup.start(app, dark_theme=False)
    model, path, scene, _ = start_model(sys.argv[1], None, use_last=False)
    window = MainWindow(model, path, settings=AppSettings(None), restore_layout=False)
    window.explore.new_sequence(scene, 0, steps=20)
    loop = QEventLoop()
    window.explore.resultShown.connect(loop.quit)
    QTimer.singleShot(60000, loop.quit)
    loop.exec()
    result = window.explore.result
    print(json.dumps({
        "model": type(model).__name__,
        "torch": "torch" in sys.modules,
        "smoothing": None if result is None else result.metrics.smoothing,
    }))
    window.shutdown()

if __name__ == "__main__":
    main()
"""


def test_the_window_shows_the_first_result_without_importing_torch(tmp_path):
    script = tmp_path / "start.py"
    script.write_text(_START)
    done = subprocess.run(
        [sys.executable, str(script), "pong"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["model"] == "ModelRef"
    assert report["smoothing"] is not None and report["smoothing"] == report["smoothing"]
    assert report["torch"] is False
