"""Issue 12, class 3, in the window: the Train form checks each option against the same
range table as `--set` (model.config.FIELD_RANGES), by real key and mouse events."""

from __future__ import annotations

import pytest
from panel_helpers import type_into
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kvae_studio.app.panels.train_panel import TrainPanel
from kvae_studio.app.panels.workspace import Workspace
from model.config import FIELD_RANGES


@pytest.fixture
def panel(qtbot, tmp_path, qapp):
    from kvae_studio.sim import simulate
    from model.data import save_sequences

    workspace = Workspace(tmp_path / "studio")
    workspace.datasets_dir.mkdir(parents=True)
    images, state = simulate("box", 4, 20, 0)
    save_sequences(workspace.datasets_dir / "tiny-train.npz", images, state)
    workspace.notify_datasets()
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    yield panel
    panel.shutdown()


@pytest.mark.parametrize(
    ("field", "typed", "words"),
    [
        ("init_lr", "-1", ["init_lr", "(0, 1000000]", "-1"]),
        ("init_lr", "nan", ["init_lr", "(0, 1000000]"]),
        ("decay_rate", "0", ["decay_rate", "(0, 1]"]),
        ("train_miss_prob", "1.5", ["train_miss_prob", "[0, 1]"]),
        ("max_grad_norm", "-5", ["max_grad_norm", "(0, "]),
        ("kernel_size", "4", ["kernel_size", "odd"]),
        ("filters", "32, 0, 32", ["filters", "[1, 1024]"]),
    ],
)
def test_an_option_out_of_range_is_named_with_its_range_and_nothing_starts(
    panel, field, typed, words
):
    type_into(panel.settings.form.editor(field), typed)
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.message.is_error
    text = panel.message.text()
    for word in words:
        assert word in text, text
    assert panel.state == "idle" and panel.job is None
    assert not panel.workspace.runs_dir.exists()  # no run folder made


@pytest.mark.parametrize("field", ["batch_size", "num_epochs", "decay_epochs", "alpha_units"])
def test_whole_number_fields_cannot_leave_their_range(panel, field):
    editor = panel.settings.form.editor(field)
    span = FIELD_RANGES[field]
    assert (editor.minimum(), editor.maximum()) == (int(span.low), int(span.high))
    type_into(editor, "0")
    assert editor.value() >= span.low
    type_into(editor, str(int(span.high) * 10))
    assert editor.value() <= span.high
