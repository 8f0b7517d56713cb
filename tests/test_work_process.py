"""The one way the studio runs work in another process (`services.work`): typed events,
cancellation, the newest wins on a channel, a killed child reported, state kept between
tasks. Headless: no Qt here (the window's bridge has its own tests)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from kvae_studio.services import work

TIMEOUT = 60.0


class Recorder:
    """Collects the events a WorkProcess passes on, and waits for a task's ending."""

    def __init__(self) -> None:
        self.events: list = []
        self.lock = threading.Condition()

    def __call__(self, event) -> None:
        with self.lock:
            self.events.append(event)
            self.lock.notify_all()

    def of(self, task: int) -> list:
        with self.lock:
            return [e for e in self.events if e.task == task]

    def wait_for(self, predicate, timeout: float = TIMEOUT):
        with self.lock:
            assert self.lock.wait_for(lambda: predicate(self.events), timeout), self.events

    def ending(self, task: int):
        self.wait_for(
            lambda events: any(e.task == task and isinstance(e, work.ENDINGS) for e in events)
        )
        endings = [e for e in self.of(task) if isinstance(e, work.ENDINGS)]
        assert len(endings) == 1, endings
        return endings[0]


@pytest.fixture
def worker():
    recorder = Recorder()
    process = work.WorkProcess(recorder, name="kvae-test-work").start()
    yield process, recorder
    process.close()


def test_items_progress_and_result_arrive_typed_from_the_child(worker):
    process, seen = worker
    task = process.submit("work_targets:count_up", 4)
    assert isinstance(seen.ending(task), work.Finished)
    events = seen.of(task)
    assert isinstance(events[0], work.Started)
    items = [e.value for e in events if isinstance(e, work.Item)]
    assert [i for _, i in items] == [0, 1, 2, 3]
    assert {pid for pid, _ in items} == {process.pid} != {os.getpid()}
    assert [e for e in events if isinstance(e, work.Progress)][-1] == work.Progress(task, 4, 4)


def test_tasks_run_in_order_in_one_process_that_keeps_state(worker):
    process, seen = worker
    first = process.submit("work_targets:remember", "a", 1)
    second = process.submit("work_targets:remember", "b", 2)
    assert seen.ending(first).value == ["a"]
    assert seen.ending(second).value == ["a", "b"]


def test_a_failure_is_one_line_and_other_errors_say_their_type(worker):
    process, seen = worker
    ours = process.submit("work_targets:fail", "the data set is empty")
    other = process.submit("work_targets:crash", "boom\nsecond line")
    failed = seen.ending(ours)
    assert isinstance(failed, work.Failed) and failed.message == "the data set is empty"
    assert "ValueError" in failed.details  # the traceback, for the log
    assert seen.ending(other).message == "ZeroDivisionError: boom"


def test_cancel_stops_a_running_task_and_drops_a_waiting_one(worker):
    process, seen = worker
    running = process.submit("work_targets:wait_for_cancel")
    waiting = process.submit("work_targets:echo", "never run")
    seen.wait_for(lambda events: any(isinstance(e, work.Item) for e in events))
    process.cancel(waiting)
    assert isinstance(seen.ending(waiting), work.Cancelled)
    assert not any(isinstance(e, work.Started) for e in seen.of(waiting))
    process.cancel(running)
    assert isinstance(seen.ending(running), work.Cancelled)


def test_a_call_reaches_the_task_s_controls(worker):
    process, seen = worker
    task = process.submit("work_targets:wait_for_cancel")
    seen.wait_for(lambda events: any(isinstance(e, work.Item) for e in events))
    process.call(task, "pause")
    seen.wait_for(
        lambda events: any(isinstance(e, work.Item) and e.value[0] == "paused" for e in events)
    )
    process.cancel(task)
    seen.ending(task)


def test_the_newest_task_of_a_channel_wins(worker):
    """Three requests on one channel while the first runs: the first is cancelled, the
    second never runs, only the third's items and result are passed on."""
    process, seen = worker
    first = process.submit("work_targets:wait_for_cancel", "first", channel="map")
    seen.wait_for(lambda events: any(isinstance(e, work.Item) for e in events))
    second = process.submit("work_targets:slow_items", "second", 3, channel="map")
    third = process.submit("work_targets:slow_items", "third", 3, channel="map")
    other = process.submit("work_targets:echo", "elsewhere", channel="flow")
    assert isinstance(seen.ending(third), work.Finished)
    assert isinstance(seen.ending(first), work.Cancelled)
    assert isinstance(seen.ending(second), work.Cancelled)
    assert seen.ending(other).value == "elsewhere"
    assert [e.value for e in seen.of(third) if isinstance(e, work.Item)] == [
        ("third", 0),
        ("third", 1),
        ("third", 2),
    ]
    # nothing of the superseded tasks but their ending after the newer one was submitted
    assert not any(isinstance(e, work.Item) for e in seen.of(second))


def test_a_killed_child_ends_its_tasks_as_failed(worker):
    process, seen = worker
    task = process.submit("work_targets:wait_for_cancel")
    waiting = process.submit("work_targets:echo", 1)
    seen.wait_for(lambda events: any(isinstance(e, work.Item) for e in events))
    os.kill(process.pid, signal.SIGKILL)
    for ended in (seen.ending(task), seen.ending(waiting)):
        assert isinstance(ended, work.Failed)
        assert ended.message == "the work process stopped (exit code -9)"
    # the next task starts a new child
    again = process.submit("work_targets:echo", "back")
    assert seen.ending(again).value == "back"


def test_close_cancels_what_runs_and_ends_the_child(worker):
    process, seen = worker
    task = process.submit("work_targets:wait_for_cancel")
    seen.wait_for(lambda events: any(isinstance(e, work.Item) for e in events))
    pid = process.pid
    process.close()
    assert isinstance(seen.ending(task), work.Cancelled)
    assert not process.alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


class Unpicklable:
    def __reduce__(self):
        raise MemoryError("no room to pickle")


def test_a_task_that_cannot_be_sent_fails_and_leaves_the_process_idle_and_working(worker):
    process, seen = worker
    assert seen.ending(process.submit("work_targets:echo", 1)).value == 1
    unsent = process.submit("work_targets:echo", Unpicklable())
    failed = seen.ending(unsent)
    assert isinstance(failed, work.Failed) and "could not be sent" in failed.message
    assert "MemoryError" in failed.message and "\n" not in failed.message
    assert process.idle, "no task is left open waiting for an answer that never comes"
    assert seen.ending(process.submit("work_targets:echo", 2)).value == 2


def test_a_tasks_arguments_are_unpickled_by_the_thread_that_runs_it(worker):
    """Unpickling imports modules; the listener thread importing numpy while the task
    thread imports torch left one with a partially initialised numpy ("cannot load module
    more than once per process", seen under load). So only the task thread unpickles."""
    from work_targets import UnpickledWhere

    process, seen = worker
    unpickled_on, ran_on = seen.ending(
        process.submit("work_targets:where_unpickled", UnpickledWhere())
    ).value
    assert unpickled_on == ran_on == "MainThread"


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("Signal source has been deleted"), ValueError("a view's own bug")],
    ids=["a deleted Qt bridge", "a listener's bug"],
)
def test_a_listener_that_raises_never_ends_the_reader_thread(monkeypatch, caplog, failure):
    """Issue 26: a window that failed to start left its Qt bridge deleted, and the reader
    thread died at exit on "Signal source has been deleted", never reaping the child nor
    ending its other tasks. Every event is passed on under a guard: the listener's failure
    ends neither the thread nor the events after it; a deleted bridge is dropped quietly,
    any other failure logged."""
    crashed = []
    monkeypatch.setattr(threading, "excepthook", crashed.append)
    seen = Recorder()

    def listener(event):
        seen(event)
        raise failure

    process = work.WorkProcess(listener, name="kvae-test-raising").start()
    try:
        first = process.submit("work_targets:count_up", 3)
        assert isinstance(seen.ending(first), work.Finished)  # every event of it came
        waiting = process.submit("work_targets:wait_for_cancel", "w")
        seen.wait_for(lambda events: any(isinstance(e, work.Item) for e in seen.of(waiting)))
        process.kill()  # the child dies: the reader still ends the task it left open
        assert isinstance(seen.ending(waiting), work.Failed)
    finally:
        process.close()
    assert crashed == []
    logged = [r for r in caplog.records if "listener failed" in r.getMessage()]
    assert bool(logged) == isinstance(failure, ValueError)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX nice values")
@pytest.mark.parametrize("niceness", [0, 10])
def test_a_background_child_runs_below_the_parent_s_priority(niceness):
    """A training or sweep's process (niceness 10) yields the cores to the window."""
    seen = Recorder()
    process = work.WorkProcess(seen, name="kvae-test-nice", niceness=niceness).start()
    try:
        ending = seen.ending(process.submit("work_targets:niceness"))
    finally:
        process.close()
    assert isinstance(ending, work.Finished)
    assert ending.value == min(19, os.nice(0) + niceness)


def test_a_priority_the_system_refuses_leaves_the_work_running(monkeypatch):
    """Lowering the priority is best effort: a sandbox that forbids it fails no job."""

    def refused(_increment):
        raise PermissionError("setpriority: operation not permitted")

    monkeypatch.setattr(os, "nice", refused, raising=False)
    work.lower_priority(10)  # no exception
