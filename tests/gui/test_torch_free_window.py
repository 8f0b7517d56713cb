"""The window starts without torch: the shipped model is described from its file's
header, the model's process loads it and answers, and only that process imports torch."""

from __future__ import annotations

from window_helpers import window_script_report

_MAIN = """
def main():
    from kvae_studio.services.inference_process import start_spare
    start_spare()
    window, model, scene = open_window(sys.argv[1])
    window.explore.new_sequence(scene, 0, steps=20)
    wait_for(window.explore.resultShown, 60000)
    result = window.explore.result
    print(json.dumps({
        "model": type(model).__name__,
        "torch": "torch" in sys.modules,
        "smoothing": None if result is None else result.metrics.smoothing,
    }))
    window.shutdown()
"""


def test_the_window_shows_the_first_result_without_importing_torch(tmp_path):
    report = window_script_report(tmp_path, _MAIN, "pong", timeout=180)
    assert report["model"] == "ModelRef"
    assert report["smoothing"] is not None and report["smoothing"] == report["smoothing"]
    assert report["torch"] is False
