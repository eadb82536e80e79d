"""Editors generated from setting declarations: one widget per `SettingSpec`, by kind and scale.

- int: a spin box over the declared range; an optional one shows "off" (None) just below it;
- float: a spin box with three decimals, or, for a log-scale setting, one that shows the value as
  typed (3e-4) and whose arrows double or halve it; open bounds stay out of the range;
- choice: a combo box of the declared names; bool: a check box;
- text: a line edit (empty means None when the setting is optional); object: JSON in a line edit.

An editor only reports the user's own edits (`on_edited`: arrows, wheel, typed text confirmed
with Enter or by leaving the field, a combo item picked, a box clicked). Showing the document's
value (`show`) never reports anything, so the form can follow the document's events without
guards: nothing it shows is written back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from workbench.settings_spec import SETTINGS_CONTEXT, SettingSpec

INT_LIMIT = 2**31 - 1  # a QSpinBox holds a C int; larger declared values are shown clamped
FLOAT_LIMIT = 1e6  # the top of a linear number's spin box when the declaration has none
DECIMALS = 3  # of a linear number's spin box (momentum 0.999, a share of 0.125)
LOG_FLOOR = 1e-8  # the smallest positive value of a log-scale spin box
LOG_LIMIT = 1e12
# The default word for an optional setting's None (SettingSpec.none_means), for lupdate; the
# others are marked where they are declared.
NONE_WORDS = (QT_TRANSLATE_NOOP("RunSettingsForm", "off"),)


def declared_text(text: str) -> str:
    """A declared label or help text in the user's language (lupdate collects them from the core)."""
    return QCoreApplication.translate(SETTINGS_CONTEXT, text)


class _UserEdits:
    """For spin boxes: `edited` fires for the user's changes only (arrows, wheel, keys, or typed
    text confirmed with Enter or by leaving the field), never for setValue."""

    edited: Signal

    def _watch_user_edits(self) -> None:
        self._typed = False  # text typed since the last confirmation
        self.lineEdit().textEdited.connect(self._on_typed)  # type: ignore[attr-defined]
        self.editingFinished.connect(self._on_finished)  # type: ignore[attr-defined]

    def stepBy(self, steps: int) -> None:  # noqa: N802
        super().stepBy(steps)  # type: ignore[misc]
        self.edited.emit()

    def _on_typed(self, _text: str) -> None:
        self._typed = True

    def _on_finished(self) -> None:
        # Leaving an untouched field is no edit: its value may be a rounded view of the document's.
        if self._typed:
            self._typed = False
            self.edited.emit()


class IntSpin(_UserEdits, QSpinBox):
    """An integer spin box reporting the user's edits."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self._watch_user_edits()


class NumberSpin(_UserEdits, QDoubleSpinBox):
    """A real-valued spin box reporting the user's edits."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setKeyboardTracking(False)
        self._watch_user_edits()

    def textFromValue(self, value: float) -> str:  # noqa: N802
        # 0.2 rather than 0.200: the decimals are the box's resolution, not the value's.
        text = super().textFromValue(value)
        point = self.locale().decimalPoint()
        return text.rstrip("0").rstrip(point) if point in text else text


class SciSpinBox(NumberSpin):
    """A number from `floor` up, shown as typed (0.001, 3e-4); the arrows double or halve it."""

    def __init__(self, floor: float, maximum: float, allow_zero: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.allow_zero = allow_zero
        self.setDecimals(12)
        self.setRange(0.0 if allow_zero else floor, maximum)
        self._floor = floor

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: ANN201
        stripped = text.strip()
        if not stripped:
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped.rstrip("eE+-.")
            return (QValidator.State.Intermediate if partial != stripped or stripped in "-+." else QValidator.State.Invalid), text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        value = self.value()
        if value <= 0:
            value = self._floor * 10 if steps > 0 else 0.0
        else:
            value *= 2.0 ** steps
            if value < self._floor:
                value = 0.0 if self.allow_zero else self._floor
        self.setValue(min(max(value, self.minimum()), self.maximum()))
        self.edited.emit()


class SettingEditor:
    """One setting's widget: `show` puts the document's value in, `value` reads the user's."""

    def __init__(self, spec: SettingSpec, widget: QWidget) -> None:
        self.spec = spec
        self.widget = widget

    def show(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        """The value the user entered; ValueError (with the reason, translated) if it is not one."""
        raise NotImplementedError

    def on_edited(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each edit by the user (never after `show`)."""
        self.widget.edited.connect(callback)  # type: ignore[attr-defined]

    def retranslate(self) -> None:
        """Re-read texts the editor itself shows (labels and tooltips are the form's)."""


class SpinEditor(SettingEditor):
    """An int or float spin box over the declared range; "off" below it for an optional setting."""

    def __init__(self, spec: SettingSpec) -> None:
        lo, hi = spin_range(spec)
        if spec.kind == "int":
            spin: QSpinBox | QDoubleSpinBox = IntSpin()
            spin.setRange(int(lo), int(hi))
            spin.setSingleStep(int(spec.step or 1))
        elif spec.scale == "log":
            spin = SciSpinBox(lo if lo > 0 else LOG_FLOOR, hi, allow_zero=lo == 0)
        else:
            spin = NumberSpin()
            spin.setDecimals(DECIMALS)
            spin.setRange(lo, hi)
            spin.setSingleStep(spec.step or 1.0)
        super().__init__(spec, spin)
        self.spin = spin

    def show(self, value: Any) -> None:
        # Clamped here: Qt clamps too, but a value past a C int (a seed of 2**40) would overflow.
        shown = self.spin.minimum() if value is None else min(max(value, self.spin.minimum()), self.spin.maximum())
        self.spin.setValue(shown)

    def value(self) -> Any:
        value = self.spin.value()
        if self.spec.optional and value == self.spin.minimum():
            return None
        return int(value) if self.spec.kind == "int" else float(value)

    def retranslate(self) -> None:
        if self.spec.optional:
            self.spin.setSpecialValueText(QCoreApplication.translate("RunSettingsForm", self.spec.none_means))


def spin_range(spec: SettingSpec) -> tuple[float, float]:
    """The spin box range for a numeric declaration: its accepted values, plus "off" just below
    them when it is optional. Open bounds step in by the box's resolution; a log-scale box starts
    at 0 when 0 is accepted, else at its floor (LOG_FLOOR or the declared minimum)."""
    if spec.kind != "int" and spec.scale == "log":
        zero = spec.minimum == 0 and not spec.open_minimum
        lo = 0.0 if zero else max(spec.minimum or 0.0, LOG_FLOOR)
        return lo, LOG_LIMIT if spec.maximum is None else spec.maximum
    unit, limit = (1.0, float(INT_LIMIT)) if spec.kind == "int" else (10.0 ** -DECIMALS, FLOAT_LIMIT)
    lo = -limit if spec.minimum is None else spec.minimum + (unit if spec.open_minimum else 0.0)
    hi = limit if spec.maximum is None else spec.maximum - (unit if spec.open_maximum else 0.0)
    if spec.optional:
        lo -= unit  # the "off" value
    return max(lo, -limit), min(hi, limit)


class ChoiceEditor(SettingEditor):
    """A combo box of names (each item's data is the value); a value not listed is added as is."""

    def __init__(self, spec: SettingSpec, combo: QComboBox | None = None) -> None:
        if combo is None:
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(choice, choice)
        super().__init__(spec, combo)
        self.combo = combo

    def show(self, value: Any) -> None:
        index = self.combo.findData(value)
        if index < 0:  # e.g. a name from a newer version's file: shown, so that nothing changes it
            self.combo.addItem(str(value), value)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)

    def value(self) -> Any:
        return self.combo.currentData()

    def on_edited(self, callback: Callable[[], None]) -> None:
        self.combo.activated.connect(lambda _index: callback())


class CheckEditor(SettingEditor):
    """A check box for a yes/no setting."""

    def __init__(self, spec: SettingSpec) -> None:
        super().__init__(spec, QCheckBox())
        self.box: QCheckBox = self.widget  # type: ignore[assignment]

    def show(self, value: Any) -> None:
        self.box.setChecked(bool(value))

    def value(self) -> Any:
        return self.box.isChecked()

    def on_edited(self, callback: Callable[[], None]) -> None:
        self.box.clicked.connect(lambda _checked: callback())


class TextEditor(SettingEditor):
    """A line edit; empty means None for an optional setting."""

    def __init__(self, spec: SettingSpec) -> None:
        super().__init__(spec, QLineEdit())
        self.edit: QLineEdit = self.widget  # type: ignore[assignment]
        self.edit.setPlaceholderText(spec.example)

    def show(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))

    def value(self) -> Any:
        text = self.edit.text().strip()
        return None if self.spec.optional and not text else text

    def on_edited(self, callback: Callable[[], None]) -> None:
        self.edit.editingFinished.connect(callback)


class JsonEditor(TextEditor):
    """A JSON object typed in a line edit; empty means {}."""

    def show(self, value: Any) -> None:
        self.edit.setText(json.dumps(value) if value else "")

    def value(self) -> Any:
        text = self.edit.text().strip()
        label, example = declared_text(self.spec.label), self.spec.example
        try:
            value = json.loads(text) if text else {}
        except json.JSONDecodeError as exc:
            message = QCoreApplication.translate("RunSettingsForm", "%1 must be JSON, like %2: %3")
            raise ValueError(message.replace("%1", label).replace("%2", example).replace("%3", str(exc))) from None
        if not isinstance(value, dict):
            message = QCoreApplication.translate("RunSettingsForm", "%1 must be a JSON object of names and values, like %2")
            raise ValueError(message.replace("%1", label).replace("%2", example))
        return value


def make_editor(spec: SettingSpec) -> SettingEditor:
    """The editor a declaration asks for."""
    if spec.kind in ("int", "float"):
        return SpinEditor(spec)
    if spec.kind == "choice":
        return ChoiceEditor(spec)
    if spec.kind == "bool":
        return CheckEditor(spec)
    if spec.kind == "object":
        return JsonEditor(spec)
    return TextEditor(spec)
