"""Issue 26: the window's Open paths with the files that once escaped every reader.

Each exception class (RuntimeError from an encrypted zip entry, TypeError from a
structured dtype, RecursionError from nested JSON, OverflowError from 1e999, MemoryError
from a forged array header, LinAlgError from weights the filter cannot use) ends as one
line in the window's error box, the session as it was, whichever way the file is opened:
the File menu's command, Open Recent, or a drop on the window. The command line's side
is `tests/test_read_guard.py`, with the same files (`hostile_files`).
"""

from __future__ import annotations

from pathlib import Path

import hostile_files as hostile
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest
from test_window_files import assert_unchanged, close_error, snapshot
from window_helpers import CHECK_TIMEOUT_MS, refused_after_check

RECORDS = np.zeros((20, 16, 16), dtype=[("a", "f4"), ("b", "f4")])

# name: (how to write it, the File menu's command, words the one line holds)
FILES = {
    "RuntimeError: a data set's entry flagged encrypted": (
        lambda p: hostile.encrypted_dataset(p / "enc.npz"),
        "open_dataset",
        ["enc.npz", "encrypted"],
    ),
    "RuntimeError: a session's entry flagged encrypted": (
        lambda p: hostile.encrypted_session(p / "enc.session.npz"),
        "open_session",
        ["enc.session.npz", "encrypted"],
    ),
    "TypeError: a data set of records": (
        lambda p: hostile.structured_dataset(p / "records.npz"),
        "open_dataset",
        ["records.npz", "structured array"],
    ),
    "TypeError: a session of records": (
        lambda p: hostile.session_file(p / "records.session.npz", images=RECORDS),
        "open_session",
        ["records.session.npz", "structured array"],
    ),
    "RecursionError: a model's header nested": (
        lambda p: hostile.model_file(p / "header.safetensors", header=hostile.DEEP.encode()),
        "open_model",
        ["header.safetensors", "nested too deeply"],
    ),
    "RecursionError: a model's config nested": (
        lambda p: hostile.model_file(p / "config.safetensors", config=hostile.DEEP),
        "open_model",
        ["config.safetensors", "config", "nested too deeply"],
    ),
    "RecursionError: a model's summary nested": (
        lambda p: hostile.model_file(p / "summary.safetensors", summary=hostile.DEEP),
        "open_model",
        ["summary.safetensors", "summary", "nested too deeply"],
    ),
    "RecursionError: a session's record nested": (
        lambda p: hostile.session_file(p / "nested.session.npz", meta=hostile.DEEP),
        "open_session",
        ["nested.session.npz", "nested too deeply"],
    ),
    "OverflowError: 1e999 filters": (
        lambda p: hostile.model_file(
            p / "filters.safetensors", config=hostile.config_with_huge_filters()
        ),
        "open_model",
        ["filters.safetensors", "config", "1e999"],
    ),
    "OverflowError: a session's frame 1e999": (
        lambda p: hostile.session_with_frame(p / "frame.session.npz", "1e999"),
        "open_session",
        ["frame.session.npz", "1e999"],
    ),
    "MemoryError: a session's header declaring petabytes": (
        lambda p: hostile.session_declaring_terabytes(p / "huge.session.npz"),
        "open_session",
        ["huge.session.npz", "(99999999, 99999, 99)"],
    ),
}


def refused_at_once(window, path: Path, opener, words: list[str]) -> None:
    before = snapshot(window)
    kept = path.read_bytes()
    assert opener(str(path)) is False
    text = close_error(window)
    assert "\n" not in text, text
    for word in words:
        assert word in text, (word, text)
    assert_unchanged(window, before)
    assert path.read_bytes() == kept


@pytest.mark.parametrize("case", list(FILES))
def test_the_file_menu_and_open_recent_show_one_line(window, tmp_path, case):
    write, command, words = FILES[case]
    path = Path(write(tmp_path))
    refused_at_once(window, path, getattr(window, command), words)  # File > Open …

    window.settings.add_recent_file(str(path))  # as a file opened on another day
    window._fill_recent()
    [action] = [a for a in window.recent_menu.actions() if a.toolTip() == str(path.resolve())]
    before = snapshot(window)
    action.trigger()  # File > Open Recent > the file
    text = close_error(window)
    assert "\n" not in text and all(word in text for word in words), text
    assert_unchanged(window, before)
    assert str(path.resolve()) not in window.settings.recent_files(), "it leaves the list"
    assert path.exists(), "the file itself is kept"


def test_a_dropped_file_shows_one_line(qtbot, window, tmp_path):
    paths = [
        hostile.encrypted_session(tmp_path / "enc.session.npz"),
        hostile.model_file(tmp_path / "summary.safetensors", summary=hostile.DEEP),
    ]
    for path, words in zip(
        paths, (["enc.session.npz", "encrypted"], ["summary.safetensors", "nested"]), strict=True
    ):
        before = snapshot(window)
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(path))])
        drop = QDropEvent(
            QPoint(10, 10),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        window.dropEvent(drop)  # the window opens it once the drop has returned
        qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible())
        text = close_error(window)
        assert "\n" not in text and all(word in text for word in words), text
        assert_unchanged(window, before)


def test_all_zero_weights_are_refused_by_the_models_check(qtbot, window, tmp_path):
    """LinAlgError: covariances of zeros can never be factorised; the check (the model
    loaded whole in a process of its own) refuses the file in one line."""
    path = hostile.model_file(tmp_path / "zero.safetensors", scale=0.0)
    before = snapshot(window)
    refused_after_check(qtbot, window, path)
    text = close_error(window)
    assert "zero.safetensors" in text and "not positive definite" in text and "\n" not in text
    assert_unchanged(window, before)


def test_weights_the_filter_cannot_use_say_so_in_one_line(qtbot, window, tmp_path):
    """LinAlgError: huge weights pass the check (finite, their covariances positive
    definite) but break the filter on a sequence; Explore says so, naming the file."""
    path = hostile.model_file(tmp_path / "huge.safetensors", scale=1e30)
    messages: list[str] = []
    window.explore.statusMessage.connect(messages.append)
    with qtbot.waitSignal(window.modelOpened, timeout=CHECK_TIMEOUT_MS):
        assert window.open_model(str(path))
    qtbot.waitUntil(lambda: any("huge.safetensors" in m for m in messages), timeout=60_000)
    [message] = [m for m in messages if "huge.safetensors" in m]
    assert message.startswith("Inference failed: huge.safetensors: cannot be used")
    assert "\n" not in message
    assert not window.explore.busy


def test_a_model_refused_by_its_check_leaves_open_recent(qtbot, window, tmp_path):
    """The whole-file check runs after the menu's action returned; its refusal, too, takes
    the file off Open Recent (the file itself is kept)."""
    zero = hostile.model_file(tmp_path / "zero.safetensors", scale=0.0)
    window.settings.add_recent_file(str(zero))
    window._fill_recent()
    [action] = [a for a in window.recent_menu.actions() if a.toolTip() == str(zero.resolve())]
    with qtbot.waitSignal(window.model_checks.checked, timeout=CHECK_TIMEOUT_MS) as verdict:
        action.trigger()  # File > Open Recent > zero.safetensors
    assert verdict.args[1] is False
    close_error(window)
    qtbot.waitUntil(lambda: not window.model_checks.busy)
    assert str(zero.resolve()) not in window.settings.recent_files()
    assert zero.exists()
    tips = [a.toolTip() for a in window.recent_menu.actions()]
    assert str(zero.resolve()) not in tips, "the menu is filled again"


def test_a_cancelled_check_keeps_the_file_in_open_recent(qtbot, window, tmp_path, monkeypatch):
    """Cancel on the check's dialog leaves everything as it was, Open Recent included: the
    file was not found wanting, only not opened (a check that runs until cancelled stands
    in for a slow one, so the click always comes first)."""
    from PySide6.QtWidgets import QPushButton

    from kvae_studio.app import model_checks

    monkeypatch.setattr(model_checks, "CHECK_TASK", "work_targets:wait_for_cancel")
    good = hostile.model_file(tmp_path / "good.safetensors")
    window.settings.add_recent_file(str(good))
    window._fill_recent()
    [action] = [a for a in window.recent_menu.actions() if a.toolTip() == str(good.resolve())]
    before = snapshot(window)
    action.trigger()  # File > Open Recent > good.safetensors
    checks = window.model_checks
    qtbot.waitUntil(lambda: checks.dialog is not None and checks.dialog.isVisible())
    [cancel] = checks.dialog.findChildren(QPushButton)
    QTest.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not checks.busy, timeout=CHECK_TIMEOUT_MS)
    assert str(good.resolve()) in window.settings.recent_files()
    assert str(good.resolve()) in [a.toolTip() for a in window.recent_menu.actions()]
    assert window.error_box is None or not window.error_box.isVisible()
    assert_unchanged(window, before)


def test_the_dynamics_tab_names_a_file_whose_weights_the_filter_cannot_use(qtbot, window, tmp_path):
    """The same huge weights in the Dynamics tab: one line naming the file, not maps of
    NaN drawn as if they were the model's."""
    from model.data import save_sequences

    path = hostile.model_file(tmp_path / "huge.safetensors", scale=1e30)
    data = tmp_path / "sixteen.npz"
    save_sequences(data, hostile.sequences(4, 20, 16))
    with qtbot.waitSignal(window.modelOpened, timeout=CHECK_TIMEOUT_MS):
        assert window.open_model(str(path))
    assert window.open_dataset(str(data))  # the tab describes the data Explore shows
    qtbot.waitUntil(lambda: window.document.dataset_path == str(data))
    bar = window.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Dynamics")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    message = window.dynamics.panel.message
    qtbot.waitUntil(lambda: "huge.safetensors" in message.text(), timeout=CHECK_TIMEOUT_MS)
    assert message.text().startswith("huge.safetensors: cannot be used on these sequences")
    assert "\n" not in message.text()


def test_the_dynamics_tab_names_a_data_set_it_cannot_read(qtbot, window, tmp_path, monkeypatch):
    """A data set chosen in the tab itself that turns out unreadable: one line naming it,
    the tab not left busy; choosing a good one afterwards describes that."""
    from model.data import save_sequences

    model = hostile.model_file(tmp_path / "tiny.safetensors")
    explored = tmp_path / "explored.npz"
    save_sequences(explored, hostile.sequences(3, 20, 16))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a whole archive")
    good = tmp_path / "four.npz"
    save_sequences(good, hostile.sequences(4, 20, 16))
    with qtbot.waitSignal(window.modelOpened, timeout=CHECK_TIMEOUT_MS):
        assert window.open_model(str(model))
    assert window.open_dataset(str(explored))
    qtbot.waitUntil(lambda: window.document.dataset_path == str(explored))
    bar = window.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Dynamics")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    panel, controller = window.dynamics.panel, window.dynamics.controller
    qtbot.waitUntil(lambda: controller.summary is not None, timeout=CHECK_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not controller.busy, timeout=CHECK_TIMEOUT_MS)
    chosen = iter([str(broken), str(good)])
    dialog = "kvae_studio.app.dynamics.tab.QFileDialog.getOpenFileName"
    monkeypatch.setattr(dialog, lambda *a, **k: (next(chosen), ""))
    QTest.mouseClick(panel.choose_data, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "broken.npz" in panel.message.text(), timeout=CHECK_TIMEOUT_MS)
    assert "\n" not in panel.message.text() and "Traceback" not in panel.message.text()
    qtbot.waitUntil(lambda: not controller.busy, timeout=CHECK_TIMEOUT_MS)
    QTest.mouseClick(panel.choose_data, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.summary.sequences == 4, timeout=CHECK_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not controller.busy, timeout=CHECK_TIMEOUT_MS)
