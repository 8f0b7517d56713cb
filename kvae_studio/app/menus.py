"""The window's menus as a table: every command once, with its keys and its tooltip.

The Edit and View menus reuse the Explore view's own actions (so a shortcut and its
button are one QAction); File and Help call the bound methods of the window's
`WindowCommands`, so a renamed command fails where the table is built, not when clicked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

if TYPE_CHECKING:
    from kvae_studio.app.window_commands import WindowCommands

Key = QKeySequence.StandardKey


def file_menu(c: WindowCommands, quit_window: Callable[[], object]) -> tuple:
    """(text, command, keys, tooltip) rows; None = separator, "recent" = Open Recent."""
    return (
        ("Open &Model…", c.ask_model, Key.Open,
         "Open a trained KVAE (.safetensors) and explore the sequence with it"),
        ("Open &Dataset…", c.ask_dataset, "Ctrl+Shift+O",
         "Open a sequence file (.npz) and explore one of its sequences"),
        ("Open &Session…", c.ask_session, "Ctrl+Alt+O",
         "Reopen a saved session: sequence, masks and model"),
        "recent",
        None,
        ("&Next Sequence", c.new_sequence, Key.New, "Simulate the next seed of the chosen scene"),
        ("&Save Session…", c.ask_save, Key.Save, "Save sequence, masks and model path in one file"),
        ("Import Mas&ks…", c.ask_import_masks, None,
         "Put saved masks (a .masks.npz, a session's, a PNG stack) on the sequence on screen\n"
         "as one undo step; they must be of its number of frames and size"),
        ("Export M&asks…", c.ask_export_masks, None,
         "Save this sequence's hidden frames and painted pixels, to reuse them on other\n"
         "sequences and with other models (.masks.npz, or a PNG stack: one picture a frame)"),
        None,
        ("Export Views as &PNG…", c.ask_png, "Ctrl+E",
         "Save a picture of Explore's frames, film strip and plots (without the controls)"),
        ("Export &Window as PNG…", c.ask_window_png, "Ctrl+Alt+E",
         "Save a picture of the whole window, as it is on screen"),
        ("Export &Video…", c.ask_video, "Ctrl+Shift+E",
         "Save views of the sequence side by side as MP4 or GIF: which views (truth,\n"
         "observed, filtered, smoothed, imputed, generated), frames per second and scale"),
        ("Export Paper's &Imputation Video…", c.ask_imputation_video, None,
         "The paper's imputation video of this sequence: 30% of the frames dropped at random,\n"
         "the model's frames with the truth drawn over them in red (MP4 or GIF)"),
        ("Export Paper's &Generation Video…", c.ask_generation_video, None,
         "The paper's generation video: the model sees the first 4 frames and rolls on for\n"
         "twice the sequence's length, the truth in red while it lasts (MP4 or GIF)"),
        None,
        ("&Quit", quit_window, "Ctrl+Q", "Quit KVAE Studio"),
    )  # fmt: skip


def help_menu(c: WindowCommands) -> tuple:
    return (
        ("&Keyboard Shortcuts", c.show_shortcuts, "F1", "Every shortcut of the studio"),
        ("&About KVAE Studio", c.about, None, "Version and credits"),
    )


def build_menus(window: QMainWindow) -> QMenu:
    """File, Edit, View and Help; returns the (empty) Open Recent menu to fill."""
    bar = window.menuBar()
    file_ = bar.addMenu("&File")
    recent = QMenu("Open &Recent", file_)
    for entry in file_menu(window.commands, window.close):
        if entry is None:
            file_.addSeparator()
        elif entry == "recent":
            file_.addMenu(recent)
        else:
            file_.addAction(_command(window, *entry))

    controls, timeline = window.explore.mask_controls, window.explore.timeline
    edit = bar.addMenu("&Edit")
    edit.addActions([controls.undo_action, controls.redo_action])
    edit.addSeparator()
    edit.addActions([*controls.tool_actions.values(), controls.eraser_action,
                     controls.all_frames_action, controls.smaller_action,
                     controls.larger_action])  # fmt: skip
    edit.addSeparator()
    edit.addActions([controls.hide_action, controls.clear_frame_action, controls.clear_all_action])

    view = bar.addMenu("&View")
    view.addActions(timeline.actions_for_window())
    view.addAction(window.explore.reset_zoom_action)
    view.addSeparator()
    tabs = window.tabs
    for i in range(tabs.count()):
        action = QAction(tabs.tabText(i), window)
        action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
        action.setToolTip(f"Show the {tabs.tabText(i)} tab")
        action.triggered.connect(lambda _=False, i=i: tabs.setCurrentIndex(i))
        view.addAction(action)

    help_ = bar.addMenu("&Help")
    for entry in help_menu(window.commands):
        help_.addAction(_command(window, *entry))
    for menu in (file_, recent, edit, view, help_):
        menu.setToolTipsVisible(True)
    return recent


POINTER_GESTURES = (
    ("Paint an occlusion on the frame (brush)", "Left drag"),
    ("Cover a box (rectangle, R)", "Left drag from corner to corner"),
    ("Cover an outline's inside (lasso, L)", "Left drag around it, release to close"),
    ("Cover a connected region of one brightness (fill, F)", "Left click"),
    ("Erase with the tool", "Right button (or E, then the left)"),
    ("Zoom the frame about the pointer", "Wheel"),
    ("Brush size", "Ctrl+Wheel"),
    ("Pan the frame", "Space + left drag, or middle drag"),
    ("Hide a frame from the model, or show it again", "Click its thumbnail"),
    ("Show a frame", "Click the z_t or α_t plot, or a point of the a-space"),
)
"""What the mouse does in Explore (F1 lists it below the keys): Space over the frame pans
rather than play, which a list of shortcuts alone would not say."""


def shortcut_table(window: QMainWindow) -> list[tuple[str, str]]:
    """(action, keys) for every action with a shortcut, menus first, no repeats."""
    seen, rows = set(), []
    menus = window.menuBar().findChildren(QMenu)
    for action in [*(a for m in menus for a in m.actions()), *window.explore.actions()]:
        native = QKeySequence.SequenceFormat.NativeText
        keys = ", ".join(k.toString(native) for k in action.shortcuts())
        name = action.text().replace("&", "").rstrip("…")
        if keys and (name, keys) not in seen:
            seen.add((name, keys))
            rows.append((name, keys))
    return rows


def _command(window: QMainWindow, text: str, command: Callable, keys, tip: str) -> QAction:
    action = QAction(text, window)
    if keys is not None:
        action.setShortcut(QKeySequence(keys))
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.triggered.connect(lambda _=False: command())
    window.addAction(action)  # shortcuts work while the menu bar is hidden too
    return action
