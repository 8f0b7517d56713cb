"""What the studio remembers between runs: window layout, last model, recent files.

A thin typed layer over QSettings so keys are spelled once. The window takes the
QSettings object it should use; tests pass one backed by a file in a temporary folder,
so they never read or write the user's settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from kvae_studio.services.resources import is_installed
from kvae_studio.sim.scene_record import SceneRecord
from model.read_guard import parse_json
from model.set_aside import set_aside

ORGANIZATION = "KVAE Studio"
APPLICATION = "KVAE Studio"
MAX_RECENT = 10


def default_settings() -> QSettings:
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


@dataclass(frozen=True)
class SceneChoice:
    """What the Scene tab had when it was last used: the scene and its parameters (with
    the seed, as the data files record them), and the tab's other fields. A field that was
    not stored, or not stored as its type, is None (the tab keeps its default)."""

    record: SceneRecord | None = None
    train_sequences: int | None = None
    test_sequences: int | None = None
    steps: int | None = None
    folder: str | None = None  # None: the workspace's datasets folder

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"record": self.record.to_json() if self.record else None}
        for name in ("train_sequences", "test_sequences", "steps", "folder"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    @classmethod
    def from_json(cls, data: Any) -> SceneChoice:
        """Read tolerantly: anything unreadable is left out (None), never an error."""
        if not isinstance(data, dict):
            return cls()

        def count(name: str) -> int | None:
            value = data.get(name)
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            return value if ok else None

        folder = data.get("folder")
        return cls(
            SceneRecord.from_json(data.get("record")),
            count("train_sequences"),
            count("test_sequences"),
            count("steps"),
            folder if isinstance(folder, str) and folder else None,
        )


class AppSettings:
    """Typed access to the keys the studio uses."""

    def __init__(self, settings: QSettings | None = None):
        self.qsettings = settings if settings is not None else default_settings()
        self.notes: list[str] = []  # what was set aside on the way in, for the window to say
        if self.qsettings.status() == QSettings.Status.FormatError:
            self._set_aside_unreadable()

    def _set_aside_unreadable(self) -> None:
        """Rename a settings file Qt cannot parse and start from defaults, keeping the file
        for the user (it may hold their recent files)."""
        path = Path(self.qsettings.fileName())
        fmt = self.qsettings.format()
        try:
            aside = set_aside(path, "unreadable")
        except OSError as err:
            self.notes.append(
                f"The settings file {path} cannot be read and could not be set aside "
                f"({err.strerror or err}); the studio starts with its defaults."
            )
            return
        self.qsettings = QSettings(str(path), fmt)
        self.notes.append(
            f"The settings file {path.name} could not be read; it was kept as {aside.name} "
            "and the studio starts with its default settings."
        )

    # Files.
    def recent_files(self) -> list[str]:
        value = self.qsettings.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a lone string for a 1-element list
            value = [value]
        if not isinstance(value, (list, tuple)):
            return []  # an edited or damaged file: no recent files rather than a crash
        return [str(v) for v in value if v]

    def add_recent_file(self, path: str) -> list[str]:
        path = str(Path(path).resolve())
        recent = [p for p in self.recent_files() if p != path]
        recent.insert(0, path)
        recent = recent[:MAX_RECENT]
        self.qsettings.setValue("files/recent", recent)
        return recent

    def remove_recent_file(self, path: str) -> None:
        self.qsettings.setValue("files/recent", [p for p in self.recent_files() if p != path])

    def clear_recent_files(self) -> None:
        self.qsettings.setValue("files/recent", [])

    def last_model(self) -> str | None:
        value = self.qsettings.value("files/last_model", "")
        return str(value) if value else None

    def set_last_model(self, path: str | None) -> None:
        self.qsettings.setValue("files/last_model", str(Path(path).resolve()) if path else "")

    def last_dir(self) -> str:
        """The folder the window's file dialogs start in: the one a file was last opened
        from or saved to, else the workspace (when it exists), else the home folder."""
        value = str(self.qsettings.value("files/last_dir", "") or "")
        if value and Path(value).is_dir():
            return value
        from kvae_studio.app.panels.workspace import default_root

        workspace = default_root()
        return str(workspace if workspace.is_dir() else Path.home())

    def set_last_dir(self, path: str) -> None:
        """Remember the folder of `path`, unless it is the studio's own installed files
        (start-up opens a shipped model: that must not send Save Session there)."""
        folder = Path(path).resolve().parent
        if not is_installed(folder):
            self.qsettings.setValue("files/last_dir", str(folder))

    def ask_save_on_quit(self) -> bool:
        """Whether quitting with unsaved mask edits asks to save them first."""
        value = self.qsettings.value("ask/save_on_quit", True)
        return value not in (False, "false", "0", 0)

    def set_ask_save_on_quit(self, ask: bool) -> None:
        self.qsettings.setValue("ask/save_on_quit", bool(ask))

    # The Scene tab.
    def scene_choice(self) -> SceneChoice:
        """The Scene tab's last scene, parameters and fields; an empty choice when none
        is stored or the stored value cannot be read (never an error)."""
        value = self.qsettings.value("scene/last", "")
        if not isinstance(value, str) or not value:
            return SceneChoice()
        try:
            return SceneChoice.from_json(parse_json(value))
        except ValueError:
            return SceneChoice()

    def set_scene_choice(self, choice: SceneChoice) -> None:
        self.qsettings.setValue("scene/last", json.dumps(choice.to_json()))

    # Layout.
    def layout(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(f"layout/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_layout(self, key: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"layout/{key}", value)

    def sync(self) -> None:
        self.qsettings.sync()
