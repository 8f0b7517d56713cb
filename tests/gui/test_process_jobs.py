"""Jobs in a process of their own (the Train and Evaluate panels' work): items, progress,
calls, cancel, failures and a killed child reach the window as from a thread."""

from __future__ import annotations

import os
import signal

from kvae_studio.app.panels.jobs import ProcessJob

TIMEOUT = 60_000


def run(qtbot, job: ProcessJob) -> dict:
    seen: dict = {"items": [], "progress": [], "result": None, "failed": None, "cancelled": 0}
    job.item.connect(seen["items"].append)
    job.progress.connect(lambda done, total: seen["progress"].append((done, total)))
    job.result.connect(lambda value: seen.update(result=value))
    job.failed.connect(lambda text: seen.update(failed=text))
    job.cancelled.connect(lambda: seen.update(cancelled=seen["cancelled"] + 1))
    job.start()
    return seen


def test_items_and_progress_come_from_another_process(qtbot):
    job = ProcessJob("work_targets:count_up", 5)
    seen = run(qtbot, job)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT):
        pass
    assert [i for _, i in seen["items"]] == list(range(5))
    assert {pid for pid, _ in seen["items"]} == {job.process.pid} != {os.getpid()}
    assert seen["progress"][-1] == (5, 5)
    assert seen["failed"] is None and seen["cancelled"] == 0


def test_a_call_reaches_the_work_and_cancel_ends_it(qtbot):
    job = ProcessJob("work_targets:wait_for_cancel")
    seen = run(qtbot, job)
    qtbot.waitUntil(lambda: len(seen["items"]) == 1, timeout=TIMEOUT)
    job.call("pause")
    qtbot.waitUntil(lambda: len(seen["items"]) == 2, timeout=TIMEOUT)
    assert seen["items"][1][0] == "paused"
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT):
        job.cancel()
    assert seen["cancelled"] == 1 and seen["result"] is None


def test_a_failure_is_one_line(qtbot):
    job = ProcessJob("work_targets:fail", "the data set is empty")
    seen = run(qtbot, job)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT):
        pass
    assert seen["failed"] == "the data set is empty"


def test_a_killed_child_is_reported(qtbot):
    job = ProcessJob("work_targets:wait_for_cancel")
    seen = run(qtbot, job)
    qtbot.waitUntil(lambda: len(seen["items"]) == 1, timeout=TIMEOUT)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT):
        os.kill(job.process.pid, signal.SIGKILL)
    assert seen["failed"] == "the work process stopped (exit code -9)"


_PARENT = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, sys.argv[1])

def main():
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from kvae_studio.app.panels.jobs import ProcessJob
    app = QCoreApplication([])
    job = ProcessJob("work_targets:wait_for_cancel")
    job.item.connect(lambda item: print(item[2], flush=True))  # ("started", tag, pid)
    job.start()
    loop = QEventLoop()
    QTimer.singleShot(60_000, loop.quit)
    loop.exec()

if __name__ == "__main__":
    main()
"""


def test_a_job_ends_when_the_window_s_process_dies(tmp_path):
    """A killed studio leaves no orphan job burning a core: the child sees its pipe
    close and stops as on Stop."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    here = str(Path(__file__).parents[1])  # tests/, where work_targets is
    parent = subprocess.Popen(
        [sys.executable, str(script), here], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(here).parent)},
    )  # fmt: skip
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
            return  # ended, not yet reaped (its parent is gone)
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("the job's process outlived the window's")
