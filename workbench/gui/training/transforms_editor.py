"""The options of an "images" dataset as a form: size, channels, unreadable files and transforms.

Everything here is generated from the declarations in `workbench.data.transforms.TRANSFORMS`:
the Add menu lists the declared types (each with its one-line doc), and selecting an entry shows
a small form made from its type's fields — a spin box per int or float over the declared range
(the run settings' own editors), one spin box per item of a fixed-length list of ints (a size
is height × width), and a comma-separated line edit for a list of numbers (`FloatsSpec`).
Augmentations are marked "training only": validation, evaluation and export leave them out.

Edits flow one way, as in the rest of the run settings form. Each user edit builds the whole new
`options` dict, checks it with `workbench.data.images.read_options`, and only then emits
`options_edited`, which the form makes one undoable command; the editor shows what the project
then holds when the project's event comes back (`show`). A refused value stays in its field with
the reason under it, and the project keeps what it had. Values are read from a widget only when
the user edits that widget (or typed into it and was refused), so a value the editor can only
show rounded is never written back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.data.transforms import TRANSFORMS, TRANSLATION_CONTEXT, Field, FloatsSpec, TransformEntry, parse_transforms
from workbench.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.training.setting_editors import IntSpin, SettingEditor, make_editor
from workbench.layers.params import ParamSpec
from workbench.settings_spec import SettingSpec

DEFAULT_SIZE = (64, 64)  # what ticking "Resize first" proposes when the project has no size yet
SIZE_LIMIT = 8192  # the largest side a size spin box offers (as the transforms' own sizes)
LIST_ROWS = (3, 8)  # the transform list shows this many rows at least / at most before scrolling
WHERE = "options"  # how the core's messages name the options (the form's "Options" field)


def transform_text(text: str) -> str:
    """A transform's or field's declared doc in the user's language (lupdate collects them from the core)."""
    return QCoreApplication.translate(TRANSLATION_CONTEXT, text)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def summary(entry: TransformEntry) -> str:
    """An entry's parameters in a few words: `size 32×32, scale 0.6–1`."""
    parts = []
    for spec in entry.kind.fields:
        value = entry.params.get(spec.name)
        if value is None:
            continue
        if isinstance(spec, ParamSpec) and spec.kind == "ints":
            shown = "×".join(str(v) for v in value)
        elif isinstance(value, tuple):
            shown = ", ".join(_number(v) for v in value)
        else:
            shown = _number(value) if isinstance(value, (int, float)) else str(value)
        parts.append(f"{spec.name} {shown}")
    return ", ".join(parts)


def _step(spec: ParamSpec) -> float | None:
    """A natural arrow step for a float over a declared range: a round tenth of it (0.1 for [0, 1])."""
    if spec.kind != "float" or spec.minimum is None or spec.maximum is None or spec.maximum <= spec.minimum:
        return None
    return 10.0 ** math.floor(math.log10((spec.maximum - spec.minimum) / 10))


# ----- one field of an entry ---------------------------------------------------------------------


class FieldEditor:
    """One field of a transform entry: `show` puts the project's value in, `value` reads the user's.

    `pending`: the user edited the widget and the project does not hold that value (it was
    refused, or another field's edit is on its way); such values go with the entry's next edit.
    """

    def __init__(self, spec: Field, widget: QWidget) -> None:
        self.spec = spec
        self.widget = widget
        self.pending = False

    def show(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        """The value entered (JSON-ready); ValueError with the reason, translated, if it is none."""
        raise NotImplementedError

    def on_edited(self, callback: Callable[[], None]) -> None:
        raise NotImplementedError


class ParamFieldEditor(FieldEditor):
    """An int, float, choice or yes/no field: the run settings' editor for the same declaration."""

    def __init__(self, spec: ParamSpec) -> None:
        setting = SettingSpec(spec.name, spec.kind, spec.default, spec.doc, minimum=spec.minimum,  # type: ignore[arg-type]
                              maximum=spec.maximum, choices=spec.choices, step=_step(spec))
        self.inner: SettingEditor = make_editor(setting)
        super().__init__(spec, self.inner.widget)

    def show(self, value: Any) -> None:
        self.inner.show(value)

    def value(self) -> Any:
        return self.inner.value()

    def on_edited(self, callback: Callable[[], None]) -> None:
        self.inner.on_edited(callback)


class IntsFieldEditor(FieldEditor):
    """A fixed-length list of ints (a size): one spin box per item, "×" between them."""

    def __init__(self, spec: ParamSpec, count: int) -> None:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.spins: list[IntSpin] = []
        for i in range(count):
            if i:
                row.addWidget(QLabel("×"))
            spin = IntSpin()
            spin.setRange(int(spec.minimum if spec.minimum is not None else 0),
                          int(spec.maximum if spec.maximum is not None else SIZE_LIMIT))
            row.addWidget(spin, 1)
            self.spins.append(spin)
        super().__init__(spec, box)

    def show(self, value: Any) -> None:
        for spin, v in zip(self.spins, value or (), strict=False):
            spin.setValue(min(max(int(v), spin.minimum()), spin.maximum()))

    def value(self) -> Any:
        return [spin.value() for spin in self.spins]

    def on_edited(self, callback: Callable[[], None]) -> None:
        for spin in self.spins:
            spin.edited.connect(callback)


class NumbersLine(QLineEdit):
    """A line edit of numbers separated by commas; `edited` fires for typed text confirmed with
    Enter or by leaving the field (never for setText, nor for passing through)."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Digits, signs, points, exponents, commas and spaces: the rest is refused as it is typed.
        self.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9eE+\-., ]*"), self))
        self._typed = False
        self.textEdited.connect(self._on_typed)
        self.editingFinished.connect(self._on_finished)

    def _on_typed(self, _text: str) -> None:
        self._typed = True

    def _on_finished(self) -> None:
        if self._typed:
            self._typed = False
            self.edited.emit()


class FloatsFieldEditor(FieldEditor):
    """A list of numbers (`FloatsSpec`: a mean per channel, a scale range) typed as `0.5, 0.5, 0.5`;
    empty means "not set" where the declaration allows it. Ranges and counts are the core's to check."""

    def __init__(self, spec: FloatsSpec) -> None:
        self.line = NumbersLine()
        super().__init__(spec, self.line)

    def show(self, value: Any) -> None:
        self.line.setText("" if value is None else ", ".join(_number(v) for v in value))

    def value(self) -> Any:
        text = self.line.text().strip().strip(",")
        if not text:
            return None
        try:
            return [float(part) for part in text.split(",")]
        except ValueError:
            raise ValueError(QCoreApplication.translate(
                "ImageOptionsEditor", "'%1' takes numbers separated by commas, like %2").replace(
                "%1", self.spec.name).replace("%2", "0.5, 1")) from None

    def on_edited(self, callback: Callable[[], None]) -> None:
        self.line.edited.connect(callback)

    def retranslate(self) -> None:
        unset = QCoreApplication.translate("ImageOptionsEditor", "not set")
        self.line.setPlaceholderText(unset if self.spec.default is None else "")


def make_field_editor(spec: Field) -> FieldEditor:
    """The editor a transform field's declaration asks for."""
    if isinstance(spec, FloatsSpec):
        return FloatsFieldEditor(spec)
    if spec.kind == "ints":
        lo, hi = spec.length or (1, 8)
        if lo == hi:
            return IntsFieldEditor(spec, lo)
        raise TypeError(f"transform field {spec.name}: only fixed-length int lists have an editor")
    return ParamFieldEditor(spec)


# ----- the whole editor ------------------------------------------------------------------------


class ImageOptionsEditor(QObject):
    """The image options' rows of the Data settings (the form places them and shows them for
    source "images" only); `options_edited(options, undo text, merge key)` after each accepted edit."""

    options_edited = Signal(object, str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.options: dict[str, Any] = {}  # the project's, as last shown
        self._raw: list[dict[str, Any]] = []  # its transform entries as written (older `augment` first)
        self._entries: list[TransformEntry] = []  # the same, checked, defaults filled in
        self._wanted_row: int | None = None  # the entry to select once the project's event comes back
        self.fields: dict[str, FieldEditor] = {}
        self._fields_type: str | None = None  # the type the entry form was built for

        # ----- size, channels, unreadable files
        self.size_check = QCheckBox()
        self.size = IntsFieldEditor(ParamSpec("size", "ints", DEFAULT_SIZE, "", minimum=1, maximum=SIZE_LIMIT,
                                              length=(2, 2)), 2)
        size_row = QWidget()
        row = QHBoxLayout(size_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.size_check)
        row.addWidget(self.size.widget, 1)
        self.size_row = size_row
        self.channels = QComboBox()
        self.on_error = QComboBox()
        for combo in (self.channels, self.on_error):  # as the form's own combos: no width forced on the dock
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.options_problem = self._problem_label()

        # ----- the transform list and its buttons
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.add_button = QPushButton()  # a push button draws its menu arrow clear of the text
        self.add_menu = QMenu(self.add_button)
        self.add_menu.setToolTipsVisible(True)
        self.add_button.setMenu(self.add_menu)
        self.remove_button = QPushButton()
        self.up_button = QToolButton()
        self.up_button.setArrowType(Qt.ArrowType.UpArrow)
        self.down_button = QToolButton()
        self.down_button.setArrowType(Qt.ArrowType.DownArrow)
        buttons = QWidget()
        button_row = QHBoxLayout(buttons)
        button_row.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            button_row.addWidget(button)
        button_row.addStretch(1)
        self.buttons = buttons

        # ----- the selected entry's form
        self.entry_box = QFrame()
        self.entry_box.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(self.entry_box)
        box.setContentsMargins(6, 4, 6, 6)
        self.entry_title = QLabel()
        self.entry_doc = QLabel()
        self.entry_doc.setWordWrap(True)
        self.training_only = QLabel()
        self.training_only.setWordWrap(True)
        self.training_only.setStyleSheet("font-style: italic;")
        self.fields_form = QFormLayout()
        self.fields_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields_form.setContentsMargins(0, 0, 0, 0)
        self.entry_problem = self._problem_label()
        for widget in (self.entry_title, self.entry_doc, self.training_only):
            box.addWidget(widget)
        box.addLayout(self.fields_form)
        box.addWidget(self.entry_problem)
        self.list_problem = self._problem_label()  # refused adds, removals and moves; unreadable lists

        self.captions = {name: QLabel() for name in ("size", "channels", "on_error", "transforms")}

        self.size_check.clicked.connect(lambda _checked: self._size_edited())
        self.size.on_edited(self._size_edited)
        self.channels.activated.connect(lambda _index: self._choice_edited("channels", self.channels))
        self.on_error.activated.connect(lambda _index: self._choice_edited("on_error", self.on_error))
        self.add_menu.aboutToShow.connect(self._update_add_menu)
        self.add_menu.triggered.connect(lambda action: self.add(action.data()))
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.list.currentRowChanged.connect(self._selection_changed)
        self.retranslate()

    @staticmethod
    def _problem_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.hide()
        return label

    def rows(self) -> list[tuple[QLabel | None, QWidget]]:
        """The rows the form places, in order: (caption or None for a full-width row, field)."""
        return [
            (self.captions["size"], self.size_row),
            (self.captions["channels"], self.channels),
            (self.captions["on_error"], self.on_error),
            (None, self.options_problem),
            (None, self.captions["transforms"]),
            (None, self.list),
            (None, self.buttons),
            (None, self.list_problem),
            (None, self.entry_box),
        ]

    # ----- texts -----------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.captions["size"].setText(self.tr("Resize first"))
        self.captions["size"].setToolTip(self.tr(
            "Bring every image to this height × width as it is read, before the transforms"))
        self.size_check.setToolTip(self.captions["size"].toolTip())
        self.size.widget.setToolTip(self.tr("Height × width in pixels"))
        self.captions["channels"].setText(self.tr("Channels"))
        self.captions["channels"].setToolTip(self.tr("Read the images as gray or RGB"))
        self.channels.clear()
        self.channels.addItem(self.tr("Automatic"), 0)
        self.channels.setItemData(0, self.tr("Gray when every image is, else RGB"), Qt.ItemDataRole.ToolTipRole)
        self.channels.addItem(self.tr("Gray (1)"), 1)
        self.channels.addItem(self.tr("RGB (3)"), 3)
        self.captions["on_error"].setText(self.tr("Unreadable images"))
        self.captions["on_error"].setToolTip(self.tr("What a file that cannot be decoded does"))
        self.on_error.clear()
        self.on_error.addItem(self.tr("Stop"), "error")
        self.on_error.setItemData(0, self.tr("Stop the load and name the file"), Qt.ItemDataRole.ToolTipRole)
        self.on_error.addItem(self.tr("Skip"), "skip")
        self.on_error.setItemData(1, self.tr("Leave them out and count them in the log"), Qt.ItemDataRole.ToolTipRole)
        self.captions["transforms"].setText(self.tr("Transforms"))
        self.captions["transforms"].setToolTip(self.tr(
            "Applied in this order; augmentations only while training"))
        self.add_button.setText(self.tr("Add"))
        self.add_button.setToolTip(self.tr("Add a transform after the selected one"))
        self.remove_button.setText(self.tr("Remove"))
        self.remove_button.setToolTip(self.tr("Remove the selected transform"))
        self.up_button.setToolTip(self.tr("Move the selected transform up (earlier)"))
        self.down_button.setToolTip(self.tr("Move the selected transform down (later)"))
        self.training_only.setText(self.tr("Training only: validation, evaluation and export leave it out"))
        self.add_menu.clear()
        for name, kind in TRANSFORMS.items():
            action = self.add_menu.addAction(self._type_text(name))
            action.setData(name)
            action.setToolTip(transform_text(kind.doc))
        self._fields_type = None  # rebuilt with the new language
        self.show(self.options)

    def _type_text(self, name: str) -> str:
        if TRANSFORMS[name].augmentation:
            return self.tr("%1 (training only)").replace("%1", name)
        return name

    # ----- showing the project ---------------------------------------------------------------

    def show(self, options: Mapping[str, Any]) -> None:
        """Show the project's options (after an edit, undo or redo); reports nothing."""
        self.options = dict(options)
        for label in (self.options_problem, self.list_problem, self.entry_problem):
            label.hide()
        size = self.options.get("size")
        self.size_check.setChecked(size is not None)
        if isinstance(size, int):
            size = [size, size]  # the reader takes one number for a square
        readable = isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size)
        self.size.show(size if readable else DEFAULT_SIZE)
        for spin in self.size.spins:
            spin.setEnabled(size is not None)
        self._select(self.channels, self.options.get("channels") or 0)
        self._select(self.on_error, self.options.get("on_error") or "error")
        try:
            self._raw = self._written_entries(self.options)
            self._entries = parse_transforms(self._raw, WHERE)
        except (WorkbenchError, TypeError) as exc:  # a file edited by hand: fix it in the raw options
            self._raw, self._entries = [], []
            self._refuse(self.list_problem, self.tr("The transforms cannot be shown: %1").replace("%1", str(exc)))
        self._fill_list()

    def _select(self, combo: QComboBox, value: Any) -> None:
        index = combo.findData(value)
        if index < 0:  # a value the core refuses; shown as it is, so that nothing changes it
            combo.addItem(str(value), value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    @staticmethod
    def _written_entries(options: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The transform entries as the project writes them; an older project's `augment` comes first,
        as the reader applies it (and the first edit writes it as transforms)."""
        transforms = options.get("transforms") or []
        if not isinstance(transforms, list):
            raise TypeError(f"option 'transforms' must be a list, got {type(transforms).__name__}")
        legacy: list[dict[str, Any]] = []
        augment = options.get("augment")
        if augment not in (None, False):
            from workbench.data.images import LEGACY_AUGMENT  # imports torch: only for such projects

            names = ["flip", "shift"] if augment is True else [augment] if isinstance(augment, str) else augment
            if not isinstance(names, list) or not all(n in LEGACY_AUGMENT for n in names):
                raise TypeError(f"option 'augment' must be true, false or a list of {list(LEGACY_AUGMENT)}")
            legacy = [dict(LEGACY_AUGMENT[n]) for n in names]
        return legacy + [dict(t) if isinstance(t, dict) else t for t in transforms]

    def _fill_list(self) -> None:
        row = self.list.currentRow() if self._wanted_row is None else self._wanted_row
        self._wanted_row = None
        self.list.blockSignals(True)  # the selection is the editor's own state, set below
        self.list.clear()
        for i, entry in enumerate(self._entries):
            kind = entry.kind
            # Two lines: the type (short: never elided), then what may be cut at the dock's edge.
            details = [self.tr("training only")] if kind.augmentation else []
            details += [summary(entry)] if entry.params and summary(entry) else []
            item = QListWidgetItem(f"{i + 1}. {entry.type}" + ("\n     " + " · ".join(details) if details else ""))
            item.setToolTip(transform_text(kind.doc))
            self.list.addItem(item)
        if self._entries:
            self.list.setCurrentRow(min(max(row, 0), len(self._entries) - 1))
        self.list.blockSignals(False)
        # As tall as its entries (two lines each), within LIST_ROWS: no scrolling for a usual list.
        shown = min(len(self._entries), LIST_ROWS[1])
        height = sum(self.list.sizeHintForRow(i) for i in range(shown))
        height += max(LIST_ROWS[0] - shown, 0) * (2 * self.list.fontMetrics().lineSpacing() + 4)
        self.list.setFixedHeight(height + 2 * self.list.frameWidth())
        self._show_entry()

    def _show_entry(self) -> None:
        """The selected entry's form: rebuilt when its type changes, else only its values shown
        (so that the spin box being clicked stays under the mouse)."""
        row = self.list.currentRow()
        entry = self._entries[row] if 0 <= row < len(self._entries) else None
        self.remove_button.setEnabled(entry is not None)
        self.up_button.setEnabled(entry is not None and row > 0)
        self.down_button.setEnabled(entry is not None and row < len(self._entries) - 1)
        self.entry_box.setVisible(entry is not None)
        if entry is None:
            self._fields_type = None
            return
        if entry.type != self._fields_type:
            self._build_fields(entry.type)
        kind = entry.kind
        self.entry_title.setText(f"<b>{entry.type}</b>")
        self.entry_doc.setText(transform_text(kind.doc))
        self.training_only.setVisible(kind.augmentation)
        for name, editor in self.fields.items():
            editor.show(entry.params.get(name))
            editor.pending = False

    def _build_fields(self, type_name: str) -> None:
        while self.fields_form.rowCount():
            self.fields_form.removeRow(0)
        self.fields = {}
        for spec in TRANSFORMS[type_name].fields:
            editor = make_field_editor(spec)
            if isinstance(editor, FloatsFieldEditor):
                editor.retranslate()
            caption = QLabel(spec.name)
            tip = transform_text(spec.doc)
            caption.setToolTip(tip)
            editor.widget.setToolTip(tip)
            editor.on_edited(lambda name=spec.name: self._field_edited(name))
            self.fields_form.addRow(caption, editor.widget)
            self.fields[spec.name] = editor
        self._fields_type = type_name

    def _selection_changed(self, _row: int) -> None:
        self.entry_problem.hide()
        self._show_entry()

    # ----- the user's edits ------------------------------------------------------------------

    def field(self, name: str) -> QWidget:
        """The widget of a field of the selected entry ("p", "size"; tests drive it)."""
        return self.fields[name].widget

    def select(self, row: int) -> None:
        """Select the entry at `row` as a click would."""
        self.list.setCurrentRow(row)

    def add(self, type_name: str) -> None:
        """Add an entry of `type_name` with its declared defaults after the selected one."""
        kind = TRANSFORMS[type_name]
        entry = TransformEntry(kind.name, kind.check({}, WHERE)).to_dict()
        row = self.list.currentRow()
        at = row + 1 if 0 <= row < len(self._raw) else len(self._raw)
        self._propose_entries(self._raw[:at] + [entry] + self._raw[at:], at, self.list_problem,
                              self.tr("Add transform %1").replace("%1", type_name))

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self._raw):
            return
        name = self._entries[row].type
        self._propose_entries(self._raw[:row] + self._raw[row + 1:], min(row, len(self._raw) - 2), self.list_problem,
                              self.tr("Remove transform %1").replace("%1", name))

    def move_selected(self, offset: int) -> None:
        row, to = self.list.currentRow(), self.list.currentRow() + offset
        if not (0 <= row < len(self._raw) and 0 <= to < len(self._raw)):
            return
        raw = list(self._raw)
        raw[row], raw[to] = raw[to], raw[row]
        text = self.tr("Move transform %1 up") if offset < 0 else self.tr("Move transform %1 down")
        self._propose_entries(raw, to, self.list_problem, text.replace("%1", self._entries[row].type))

    def _update_add_menu(self) -> None:
        # One normalize per list (the core refuses a second): offered while there is none.
        has_normalize = any(e.type == "normalize" for e in self._entries)
        for action in self.add_menu.actions():
            action.setEnabled(not (action.data() == "normalize" and has_normalize))

    def _field_edited(self, name: str) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self._raw):
            return
        self.fields[name].pending = True
        entry = dict(self._raw[row])
        for field_name, editor in self.fields.items():
            if not editor.pending:
                continue
            try:
                value = editor.value()
            except ValueError as exc:
                self._refuse(self.entry_problem, str(exc))
                return
            if value is None:
                entry.pop(field_name, None)
            else:
                entry[field_name] = value
        raw = list(self._raw)
        raw[row] = entry
        kind = self._entries[row].type
        self._propose_entries(raw, row, self.entry_problem,
                              self.tr("Change %1 of %2").replace("%1", name).replace("%2", kind),
                              merge_key=f"transforms[{row}].{name}")

    def _size_edited(self) -> None:
        options = dict(self.options)
        if self.size_check.isChecked():
            options["size"] = self.size.value()
        else:
            options.pop("size", None)
        self._propose(options, self.options_problem, self.tr("Change image size"), "size")

    def _choice_edited(self, name: str, combo: QComboBox) -> None:
        options = dict(self.options)
        value = combo.currentData()
        if value in (0, None, "error"):  # the defaults: written by leaving the option out
            options.pop(name, None)
        else:
            options[name] = value
        text = self.tr("Change image channels") if name == "channels" else self.tr("Change unreadable images")
        self._propose(options, self.options_problem, text, name)

    def _propose_entries(self, raw: Sequence[dict[str, Any]], select: int, where: QLabel, text: str,
                         merge_key: str | None = None) -> None:
        options = dict(self.options)
        options.pop("augment", None)  # now written out as transforms
        if raw:
            options["transforms"] = list(raw)
        else:
            options.pop("transforms", None)
        self._propose(options, where, text, merge_key, select)

    def _propose(self, options: dict[str, Any], where: QLabel, text: str, merge_key: str | None,
                 select: int | None = None) -> None:
        """Check the new options as the reader will; emit them, or show why they are refused."""
        if options == self.options:
            return
        problem = check_options(options)
        if problem is not None:
            self._refuse(where, problem)
            return
        where.hide()
        self._wanted_row = select
        self.options_edited.emit(options, text, merge_key)
        self._wanted_row = None  # (the project's event, if any, has been shown by now)

    def _refuse(self, label: QLabel, message: str) -> None:
        label.setText(self.tr("Not changed: %1").replace("%1", message))
        label.setStyleSheet(f"color: {theme.colors().error.darker(110).name()};")
        label.show()


def check_options(options: dict[str, Any]) -> str | None:
    """Why the image reader would refuse `options` (its own message), or None when it accepts them."""
    from workbench.data.bundle import DatasetSpec
    from workbench.data.images import read_options  # imports torch, which the app has loaded by the first edit

    try:
        read_options(DatasetSpec(source="images", options=options), WHERE)
    except WorkbenchError as exc:
        return str(exc)
    return None
