"""The options of File > Export Video: which views side by side, frames per second, scale.

A small window-modal dialog in front of the file name (opened with `open()`, never
`exec()`); its OK button says "Export…" and is disabled while no view is ticked. It shows
the size the video will have, so a scale is chosen knowing what it gives. The choices are
`services.video_options.VideoOptions`; the window remembers the last ones for the session.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kvae_studio.services.export import size_problem, video_size
from kvae_studio.services.video_options import (
    DEFAULT_SCALE,
    DEFAULT_VIEWS,
    MAX_SCALE,
    VIEWS,
    VideoOptions,
)

MAX_FPS = 100.0  # as `kvae-studio export --fps`


class VideoDialog(QDialog):
    """`options()` once accepted. `frames` is (steps, height, width) of the sequence;
    `default_fps` the timeline's rate (the fps when `options` has none, and Defaults');
    `generated` whether the result has a generation to show."""

    def __init__(
        self,
        parent: QWidget,
        options: VideoOptions,
        frames: tuple[int, int, int],
        default_fps: float,
        generated: bool = True,
    ):
        super().__init__(parent)
        self.setWindowTitle("Export video")
        self.setObjectName("videoDialog")
        self.frames = frames
        views_box = QGroupBox("Views side by side")
        grid = QGridLayout(views_box)
        self.view_checks: dict[str, QCheckBox] = {}
        for i, (name, words) in enumerate(VIEWS.items()):
            check = QCheckBox(name)
            check.setObjectName(f"view_{name}")
            check.setToolTip(words)
            check.setChecked(name in options.views)
            if name == "generated" and not generated:
                check.setChecked(False)
                check.setEnabled(False)
                check.setToolTip(f"{words}: none here, the model sees no first frames")
            check.toggled.connect(self._update)
            grid.addWidget(check, i // 3, i % 3)
            self.view_checks[name] = check

        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setObjectName("videoFps")
        self.fps_spin.setRange(0.5, MAX_FPS)
        self.fps_spin.setDecimals(1)
        self.fps_spin.setSuffix(" frames/s")
        self.default_fps = default_fps
        self.fps_spin.setValue(options.fps if options.fps is not None else default_fps)
        self.scale_spin = QSpinBox()
        self.scale_spin.setObjectName("videoScale")
        self.scale_spin.setRange(1, MAX_SCALE)
        self.scale_spin.setSuffix(" video pixels per frame pixel")
        self.scale_spin.setValue(options.scale)
        self.scale_spin.valueChanged.connect(self._update)
        form = QFormLayout()
        form.addRow("Speed", self.fps_spin)
        form.addRow("Scale", self.scale_spin)
        self.size_label = QLabel()
        self.size_label.setObjectName("videoSize")
        form.addRow("Video", self.size_label)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Export…")
        self.ok_button.setObjectName("videoExportButton")
        defaults = QPushButton("Defaults")
        defaults.setObjectName("videoDefaults")
        defaults.setToolTip("Truth, observed and imputed at the timeline's rate, scale 6")
        defaults.clicked.connect(self.reset)
        self.buttons.addButton(defaults, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(views_box)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._update()

    def reset(self) -> None:
        for name, check in self.view_checks.items():
            check.setChecked(name in DEFAULT_VIEWS and check.isEnabled())
        self.fps_spin.setValue(self.default_fps)
        self.scale_spin.setValue(DEFAULT_SCALE)

    def views(self) -> tuple[str, ...]:
        return tuple(n for n, c in self.view_checks.items() if c.isChecked() and c.isEnabled())

    def options(self) -> VideoOptions:
        return VideoOptions(self.views(), self.fps_spin.value(), self.scale_spin.value())

    def _update(self) -> None:
        views = self.views()
        self.ok_button.setEnabled(bool(views))
        if not views:
            self.size_label.setText("Tick at least one view.")
            return
        steps, height, width = self.frames
        scale = self.scale_spin.value()
        if problem := size_problem(len(views), (height, width), scale):
            self.ok_button.setEnabled(False)
            self.size_label.setText(problem[0].upper() + problem[1:] + ".")
            return
        out_w, out_h = video_size(len(views), (height, width), scale)
        self.size_label.setText(f"{out_w} × {out_h} pixels, {steps} frames")
