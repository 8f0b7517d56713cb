"""A form generated from a frozen dataclass: one editor per field, grouped, with tooltips.

Why generated: the scene parameters and `KVAEConfig` are the single source of truth for
what can be set and for the paper's defaults. A hand-written form would drift from them
the day a field is added; this one shows every field (unknown ones in an "Other"
group) and builds the dataclass back, so its validation (`__post_init__`) is the form's.

Editors are chosen from the type of the field's default: bool -> check box, int ->
spin box, float -> line edit (accepts 0.007 and 7e-3 alike), str -> combo box when
choices are known, tuples -> comma-separated text. A field whose value differs from the
default shows its label in bold, so a user sees at a glance what they changed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kvae_studio import colors
from model.field_text import parse_text, show_text

INVALID_COLOUR = colors.ERROR


class FieldError(ValueError):
    """A value the form cannot read: `fields` names its editor, `words` says it with the
    field's label, as the form shows it."""

    def __init__(self, message: str, fields: tuple[str, ...], words: str):
        super().__init__(message)
        self.fields = tuple(fields)
        self.words = words


@dataclass(frozen=True)
class FieldHint:
    """How to present one field: its group, tooltip, allowed choices and range."""

    group: str = "Other"
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    label: str | None = None


HintSource = Mapping[str, FieldHint] | Callable[[str], FieldHint]


# -- editors: each has value(), set_value(v) and an `edited` signal ---------------------------


class _BoolEditor(QCheckBox):
    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.toggled.connect(self.edited)

    def value(self) -> bool:
        return self.isChecked()

    def set_value(self, value: Any) -> None:
        self.setChecked(bool(value))


class _IntEditor(QSpinBox):
    edited = Signal()

    def __init__(self, minimum: int | None, maximum: int | None) -> None:
        super().__init__()
        self.setRange(0 if minimum is None else minimum, 1_000_000 if maximum is None else maximum)
        self.setAccelerated(True)
        # Scrolling the form must not change values under the pointer.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.valueChanged.connect(self.edited)

    def wheelEvent(self, event) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()

    def set_value(self, value: Any) -> None:
        self.setValue(int(value))


class _TextEditor(QLineEdit):
    """Free text parsed on demand; shows a red frame while it cannot be parsed."""

    edited = Signal()

    def __init__(self, parse: Callable[[str], Any], show: Callable[[Any], str]) -> None:
        super().__init__()
        self._parse, self._show = parse, show
        self.textEdited.connect(self._on_edit)

    def _on_edit(self) -> None:
        try:
            self._parse(self.text())
            self.setStyleSheet("")
        except ValueError:
            self.setStyleSheet(f"QLineEdit {{ border: 1px solid {INVALID_COLOUR}; }}")
        self.edited.emit()

    def value(self) -> Any:
        return self._parse(self.text())

    def set_value(self, value: Any) -> None:
        self.setText(self._show(value))
        self.setStyleSheet("")


class _ChoiceEditor(QComboBox):
    edited = Signal()

    def __init__(self, choices: tuple[str, ...]) -> None:
        super().__init__()
        self.addItems(list(choices))
        self.currentIndexChanged.connect(self.edited)

    def value(self) -> str:
        return self.currentText()

    def set_value(self, value: Any) -> None:
        index = self.findText(str(value))
        if index < 0:
            self.addItem(str(value))
            index = self.count() - 1
        self.setCurrentIndex(index)


def _make_editor(default: Any, hint: FieldHint) -> QWidget:
    if isinstance(default, bool):
        return _BoolEditor()
    if isinstance(default, int):
        return _IntEditor(hint.minimum, hint.maximum)
    if isinstance(default, str) and hint.choices:
        return _ChoiceEditor(hint.choices)
    if isinstance(default, (float, tuple)):  # typed text, read as the command line reads it
        return _TextEditor(lambda text: parse_text(text, default), show_text)
    return _TextEditor(str, str)


# -- layout -----------------------------------------------------------------------------------


class Section(QWidget):
    """A titled group whose body folds away, so a long form stays scannable."""

    def __init__(self, title: str, expanded: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.toggle = QToolButton(text=title, checkable=True, checked=expanded)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
        self.toggle.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.body = QWidget()
        self.form = QFormLayout(self.body)
        self.form.setContentsMargins(14, 0, 0, 6)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle)
        layout.addWidget(self.body)
        self.toggle.toggled.connect(self._set_expanded)
        self._set_expanded(expanded)

    def _set_expanded(self, expanded: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)


class DataclassForm(QWidget):
    """Editors for every field of `cls`, grouped into foldable sections.

    `changed` fires on every edit. `build()` returns a new instance (raising ValueError
    with the dataclass's own message when the values are inconsistent).
    """

    changed = Signal()

    def __init__(
        self,
        cls: type,
        hints: HintSource,
        collapsed: tuple[str, ...] = (),
        order: tuple[str, ...] = (),
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.cls = cls
        self.defaults = _defaults(cls)
        hint_of = hints if callable(hints) else (lambda name: hints.get(name, FieldHint()))
        self._editors: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._sections: dict[str, Section] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        groups: dict[str, list[tuple[str, FieldHint]]] = {}
        for f in dataclasses.fields(cls):
            if f.init:
                hint = hint_of(f.name)
                groups.setdefault(hint.group, []).append((f.name, hint))
        rank = {g: i for i, g in enumerate(order)}
        for group in sorted(groups, key=lambda g: rank.get(g, len(rank))):
            section = Section(group, expanded=group not in collapsed)
            self._sections[group] = section
            layout.addWidget(section)
            for name, hint in groups[group]:
                self._add_field(section, name, hint)
        # One label column for all sections, so the editors line up.
        width = max((label.sizeHint().width() for label in self._labels.values()), default=0)
        for label in self._labels.values():
            label.setMinimumWidth(width)
        layout.addStretch(1)

    def _add_field(self, section: Section, name: str, hint: FieldHint) -> None:
        default = self.defaults[name]
        editor = _make_editor(default, hint)
        editor.setObjectName(name)
        editor.set_value(default)
        label = QLabel(hint.label or name)
        option = f"--{name.replace('_', '-')}"  # what `kvae-studio train` calls it
        tip = f"<b>{name}</b> ({option}, default {show_text(default)})<br>{hint.help or name}"
        label.setToolTip(tip)
        editor.setToolTip(tip)
        editor.edited.connect(self._on_edit)
        section.form.addRow(label, editor)
        self._editors[name] = editor
        self._labels[name] = label

    # Access.
    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def section(self, group: str) -> Section:
        return self._sections[group]

    def names(self) -> list[str]:
        return list(self._editors)

    def values(self) -> dict[str, Any]:
        """Current values; raises FieldError (a ValueError) naming the field that cannot
        be parsed."""
        out, bad = {}, {}
        for name, editor in self._editors.items():
            try:
                out[name] = editor.value()
            except ValueError:
                bad[name] = f"{editor.text()!r} is not a valid value"
        if bad:  # every one of them, so that each is outlined
            message = "; ".join(f"{name}: {why}" for name, why in bad.items())
            words = "; ".join(f"{self._labels[name].text()}: {why}" for name, why in bad.items())
            raise FieldError(message, tuple(bad), words)
        return out

    def build(self) -> Any:
        return self.cls(**self.values())

    def set_values(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            editor = self._editors.get(name)
            if editor is not None:
                editor.blockSignals(True)
                editor.set_value(value)
                editor.blockSignals(False)
        self._on_edit()

    def reset(self) -> None:
        """Back to the dataclass defaults (the paper's)."""
        self.set_values(self.defaults)

    def show_problem(self, message: str, fields: tuple[str, ...] | None = None) -> list[str]:
        """Outline in red the fields to blame, and clear the others; returns them. They are
        `fields` when the error names them (a scene's ParamError, a FieldError), else those
        `message` names (a validation error such as "speed_min must not exceed speed_max")."""
        named = []
        for name, editor in self._editors.items():
            if fields is not None:
                hit = name in fields
            else:
                pattern = rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])"
                hit = re.search(pattern, message) is not None
            if hit:
                named.append(name)
            editor.setProperty("invalid", bool(hit))
            kind = type(editor).__mro__[1].__name__  # QSpinBox, QLineEdit, QCheckBox...
            editor.setStyleSheet(f"{kind} {{ border: 1px solid {INVALID_COLOUR}; }}" if hit else "")
        return named

    def set_read_only(self, read_only: bool, except_fields: tuple[str, ...] = ()) -> None:
        for name, editor in self._editors.items():
            editor.setEnabled(not read_only or name in except_fields)

    def _on_edit(self) -> None:
        for name, editor in self._editors.items():
            try:
                changed = editor.value() != self.defaults[name]
            except ValueError:
                changed = True
            font = self._labels[name].font()
            if font.bold() != changed:
                font.setBold(changed)
                self._labels[name].setFont(font)
        self.changed.emit()


def _defaults(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out
