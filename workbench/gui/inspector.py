"""The inspector: the selected layer's name and params, as a form generated from the registry.

Each ParamSpec becomes an editor (spin box, check box, combo box or text field). A value the
declaration refuses is never clamped: the field is marked red, the reason is shown under it, and
the document keeps its value until the user enters an accepted one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.errors import GraphError
from workbench.gui import theme
from workbench.gui.labels import category_label
from workbench.graph.document import EventKind
from workbench.graph.search_values import format_search_entry, parse_search_text, searchable
from workbench.i18n import _ as core_text
from workbench.gui.session import EditorSession
from workbench.layers.params import ParamSpec

INT_LIMIT = 2_000_000_000  # spin box bounds: far outside any declaration, so Qt never clamps


class _Field:
    """One param's editor, its error label, and how to read/write it."""

    def __init__(self, spec: ParamSpec, editor: QWidget, read: Callable[[], Any], write: Callable[[Any], None]) -> None:
        self.spec = spec
        self.editor = editor
        self.read = read
        self.write = write
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.hide()


class Inspector(QWidget):
    """Form for the selected node; edits become commands on the session."""

    value_refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: EditorSession | None = None
        self.node_id: str | None = None
        self._node_type: str | None = None
        self._fields: dict[str, _Field] = {}
        self._search_fields: dict[str, _Field] = {}  # numeric params: the values a search may try
        self._search_rows: list[QWidget] = []  # shown when "Search values" is checked
        self._show_search = False  # the user's choice, kept from layer to layer
        self.search_toggle: QCheckBox | None = None
        self._selection_count = 0

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.doc = QLabel()
        self.doc.setWordWrap(True)
        self.shape = QLabel()
        self.shape.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_edit.editingFinished.connect(self._commit_name)
        self.name_error = QLabel()
        self.name_error.setWordWrap(True)
        self.name_error.hide()
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setContentsMargins(0, 0, 0, 0)

        self.body = QWidget()
        body_layout = QVBoxLayout(self.body)
        body_layout.setContentsMargins(10, 10, 10, 10)
        body_layout.setSpacing(6)
        body_layout.addWidget(self.title)
        body_layout.addWidget(self.doc)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        body_layout.addWidget(line)
        self.name_label = QLabel()
        name_row = QFormLayout()
        name_row.setContentsMargins(0, 0, 0, 0)
        name_row.addRow(self.name_label, self.name_edit)
        # Training facts of the node (not params of its layer type): frozen, learning-rate factor.
        self.trainable_box = QCheckBox()
        self.trainable_box.toggled.connect(self._commit_trainable)
        self.lr_scale_label = QLabel()
        self.lr_scale_edit = QDoubleSpinBox()
        self.lr_scale_edit.setRange(0.001, 1000.0)
        self.lr_scale_edit.setDecimals(3)
        self.lr_scale_edit.setSingleStep(0.5)
        self.lr_scale_edit.editingFinished.connect(self._commit_lr_scale)
        name_row.addRow("", self.trainable_box)
        name_row.addRow(self.lr_scale_label, self.lr_scale_edit)
        body_layout.addLayout(name_row)
        body_layout.addWidget(self.name_error)
        body_layout.addWidget(self.form_host)
        body_layout.addWidget(self.shape)
        body_layout.addWidget(self.problems)
        body_layout.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        layout.addWidget(scroll)
        self._scroll = scroll
        self.retranslate()
        self.show_node(None)

    # ----- what to show --------------------------------------------------------------------

    def set_session(self, session: EditorSession | None) -> None:
        if self.session is not None:
            self.session.graph_changed.disconnect(self._on_graph_event)
            self.session.analysis_changed.disconnect(self._refresh_analysis)
        self.session = session
        if session is not None:
            session.graph_changed.connect(self._on_graph_event)
            session.analysis_changed.connect(self._refresh_analysis)
        self.show_node(None)

    def show_selection(self, node_ids: list[str]) -> None:
        self._selection_count = len(node_ids)
        self.show_node(node_ids[0] if len(node_ids) == 1 else None)

    def show_node(self, node_id: str | None) -> None:
        graph = self.session.graph if self.session is not None else None
        if graph is None or node_id is None or not graph.has_node(node_id):
            self.node_id, self._node_type = None, None
            self._clear_form()
            self._scroll.hide()
            self.empty.show()
            self._update_empty_text()
            return
        node = graph.node(node_id)
        if node_id != self.node_id or node.type != self._node_type:
            self.node_id, self._node_type = node_id, node.type
            self._build_form(node.spec.params)
        self.empty.hide()
        self._scroll.show()
        self._refresh_values()
        self._refresh_analysis()

    def _update_empty_text(self) -> None:
        if self.session is None:
            self.empty.setText("")
        elif self._selection_count > 1:
            self.empty.setText(self.tr("%1 layers selected").replace("%1", str(self._selection_count)))
        else:
            self.empty.setText(self.tr("Select a layer on the canvas to edit its parameters."))

    def _clear_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._fields.clear()
        self._search_fields.clear()
        self._search_rows.clear()
        self.search_toggle = None

    def _build_form(self, params: tuple[ParamSpec, ...]) -> None:
        self._clear_form()
        for spec in params:
            field = self._make_field(spec)
            label = QLabel(spec.name)
            tip = f"<b>{spec.name}</b>: {core_text(spec.doc)}<br><i>{spec.describe()}</i>"
            label.setToolTip(tip)
            field.editor.setToolTip(tip)
            column = QWidget()
            col = QVBoxLayout(column)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(2)
            col.addWidget(field.editor)
            col.addWidget(field.error)
            self.form.addRow(label, column)
            self._fields[spec.name] = field
            if searchable(spec):
                self._add_search_field(spec)
        if self._search_fields:
            # A row per numeric param would crowd the form: they show when asked for, or when
            # the layer has search values already.
            self.search_toggle = QCheckBox(self.tr("Search values (for Run › Search…)"))
            self.search_toggle.setChecked(self._show_search)
            self.search_toggle.toggled.connect(self._toggle_search_rows)
            self.form.addRow(self.search_toggle)
            self._toggle_search_rows(self._show_search)
        if not params:
            note = QLabel(self.tr("This layer has no parameters."))
            note.setEnabled(False)
            self.form.addRow(note)

    def _make_field(self, spec: ParamSpec) -> _Field:
        if spec.kind == "bool":
            box = QCheckBox()
            field = _Field(spec, box, box.isChecked, lambda v: box.setChecked(bool(v)))
            box.toggled.connect(lambda _=None, n=spec.name: self._commit(n))
        elif spec.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(spec.choices))
            field = _Field(spec, combo, combo.currentText, lambda v: combo.setCurrentText(str(v)))
            combo.currentTextChanged.connect(lambda _=None, n=spec.name: self._commit(n))
        elif spec.kind == "int" and not spec.optional:
            spin = QSpinBox()
            spin.setRange(-INT_LIMIT, INT_LIMIT)
            spin.setKeyboardTracking(False)
            spin.setAccelerated(True)
            field = _Field(spec, spin, spin.value, lambda v: spin.setValue(int(v)))
            spin.valueChanged.connect(lambda _=None, n=spec.name: self._commit(n))
        else:  # float, ints, optional int: typed text, parsed and checked on Enter / leaving
            edit = QLineEdit()
            field = _Field(spec, edit, lambda: _parse(spec, edit.text()), lambda v: edit.setText(_format(v)))
            edit.editingFinished.connect(lambda n=spec.name: self._commit(n))
        return field

    def _refresh_values(self) -> None:
        if self.session is None or self.node_id is None:
            return
        node = self.session.graph.node(self.node_id)
        spec = node.spec
        self.title.setText(
            f"<span style='font-size:13pt; font-weight:600'>{node.type}</span>"
            f"&nbsp;&nbsp;<span style='color:{theme.category_color(spec.category).name()}'>● {category_label(spec.category)}</span>"
        )
        self.doc.setText(core_text(spec.doc))  # the registry's words, in the user's language
        if not self.name_edit.hasFocus() or self.name_edit.text() == node.name:
            self.name_edit.setText(node.name)
        self._set_error(self.name_error, "")
        has_weights = node.type not in ("Input", "Output")  # the rest may hold weights
        for widget in (self.trainable_box, self.lr_scale_edit):
            widget.blockSignals(True)
        self.trainable_box.setChecked(node.trainable)
        self.lr_scale_edit.setValue(node.lr_scale)
        for widget in (self.trainable_box, self.lr_scale_edit):
            widget.blockSignals(False)
        self.trainable_box.setVisible(has_weights or not node.trainable)
        self.lr_scale_edit.setVisible(has_weights)
        self.lr_scale_label.setVisible(has_weights)
        for name, field in self._search_fields.items():
            field.write(node.search.get(name))
            self._set_error(field.error, "", field.editor)
        if self.search_toggle is not None and node.search and not self.search_toggle.isChecked():
            self.search_toggle.blockSignals(True)
            self.search_toggle.setChecked(True)
            self.search_toggle.blockSignals(False)
            self._set_search_rows_visible(True)
        for name, field in self._fields.items():
            field.editor.blockSignals(True)
            field.write(node.params.get(name))
            field.editor.blockSignals(False)
            self._set_error(field.error, "", field.editor)

    def _refresh_analysis(self) -> None:
        if self.session is None or self.node_id is None or not self.session.graph.has_node(self.node_id):
            return
        analysis = self.session.analysis
        shape = analysis.shapes.get(self.node_id)
        shape_text = str(shape) if shape is not None else "?"
        self.shape.setText(self.tr("Output shape: %1").replace("%1", f"<b>{shape_text}</b>"))
        problems = analysis.problems_for(self.node_id)
        if problems:
            c = theme.colors()
            self.problems.setText("<br>".join(
                f"<span style='color:{(c.error if p.severity == 'error' else c.warning).name()}'>⚠ {_escape(p.message)}</span>"
                for p in problems
            ))
            self.problems.show()
        else:
            self.problems.hide()

    def _on_graph_event(self, event) -> None:  # noqa: ANN001
        if self.node_id is None:
            return
        if event.kind is EventKind.NODE_REMOVED and event.node_id == self.node_id:
            self.show_node(None)
        elif event.node_id == self.node_id and event.kind in (EventKind.PARAMS_CHANGED, EventKind.NODE_RENAMED,
                                                               EventKind.TRAINING_CHANGED, EventKind.SEARCH_CHANGED):
            self._refresh_values()
        elif event.kind is EventKind.RESET:
            self.show_node(None)

    # ----- committing edits ----------------------------------------------------------------

    def _commit(self, name: str) -> None:
        from workbench.gui.commands import SetParamCommand

        if self.session is None or self.node_id is None:
            return
        field = self._fields[name]
        try:
            value = field.read()
            value = field.spec.validate(value)
        except (GraphError, ValueError) as exc:
            self._refuse(field, str(exc))
            return
        node = self.session.graph.node(self.node_id)
        if node.params.get(name) == value:
            self._set_error(field.error, "", field.editor)
            return
        command = SetParamCommand(self.session.graph, self.node_id, name, value)
        reason = command.check()
        if reason:
            self._refuse(field, reason)
            return
        self.session.push(command)
        self._set_error(field.error, "", field.editor)

    def _commit_trainable(self, checked: bool) -> None:
        from workbench.gui.commands import SetTrainingCommand

        if self.session is None or self.node_id is None:
            return
        if self.session.graph.node(self.node_id).trainable != checked:
            self.session.push(SetTrainingCommand(self.session.graph, [self.node_id], trainable=checked))

    def _commit_lr_scale(self) -> None:
        from workbench.gui.commands import SetTrainingCommand

        if self.session is None or self.node_id is None:
            return
        value = round(self.lr_scale_edit.value(), 6)
        if self.session.graph.node(self.node_id).lr_scale != value:
            self.session.push(SetTrainingCommand(self.session.graph, [self.node_id], lr_scale=value))

    def _add_search_field(self, spec: ParamSpec) -> None:
        """A "search" row under a numeric param: the values Run › Search… may try for it."""
        edit = QLineEdit()
        edit.setPlaceholderText(self.tr("not searched (e.g. 32, 64, 128 or 16..256 log)"))
        edit.setToolTip(self.tr("Values a search may try: a list (32, 64, 128) or a range (16..256, "
                                "16..256 log); empty: not searched"))
        field = _Field(spec, edit, edit.text, lambda v: edit.setText(format_search_entry(v)))
        edit.editingFinished.connect(lambda n=spec.name: self._commit_search(n))
        column = QWidget()
        col = QVBoxLayout(column)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(edit)
        col.addWidget(field.error)
        label = QLabel(self.tr("  search"))
        label.setToolTip(edit.toolTip())
        self.form.addRow(label, column)
        self._search_fields[spec.name] = field
        self._search_rows.append(column)

    def _toggle_search_rows(self, shown: bool) -> None:
        self._show_search = shown
        self._set_search_rows_visible(shown)

    def _set_search_rows_visible(self, shown: bool) -> None:
        for row in self._search_rows:
            self.form.setRowVisible(row, shown)

    def _commit_search(self, name: str) -> None:
        from workbench.gui.search.commands import SetSearchCommand

        if self.session is None or self.node_id is None:
            return
        field = self._search_fields[name]
        node = self.session.graph.node(self.node_id)
        try:
            entry = parse_search_text(node.spec, name, field.read())
        except GraphError as exc:
            self._refuse(field, str(exc))
            return
        self._set_error(field.error, "", field.editor)
        if node.search.get(name) != entry:
            self.session.push(SetSearchCommand(self.session.graph, self.node_id, name, entry))

    def _refuse(self, field: _Field, reason: str) -> None:
        self._set_error(field.error, reason, field.editor)
        self.value_refused.emit(reason)

    def _commit_name(self) -> None:
        from workbench.gui.commands import RenameCommand

        if self.session is None or self.node_id is None:
            return
        name = self.name_edit.text().strip()
        node = self.session.graph.node(self.node_id)
        if name == node.name:
            self._set_error(self.name_error, "", self.name_edit)
            return
        command = RenameCommand(self.session.graph, self.node_id, name)
        reason = command.check()
        if reason:
            self._set_error(self.name_error, reason, self.name_edit)
            self.value_refused.emit(reason)
            return
        self.session.push(command)
        self._set_error(self.name_error, "", self.name_edit)

    def _set_error(self, label: QLabel, text: str, editor: QWidget | None = None) -> None:
        label.setProperty("reason", text)
        label.setText(f"<span style='color:{theme.colors().error.name()}'>{_escape(text)}</span>" if text else "")
        label.setVisible(bool(text))
        if editor is not None:
            editor.setStyleSheet(f"border: 1.5px solid {theme.colors().error.name()}; border-radius: 3px;" if text else "")

    def field_editor(self, name: str) -> QWidget:
        """The editor of one param (tests drive it)."""
        return self._fields[name].editor

    def field_error(self, name: str) -> str:
        """The reason shown under a param's field ("" when its value is accepted)."""
        return str(self._fields[name].error.property("reason") or "")

    # ----- language ------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.name_label.setText(self.tr("Name"))
        self.name_edit.setPlaceholderText(self.tr("layer name"))
        self.trainable_box.setText(self.tr("Trainable"))
        self.trainable_box.setToolTip(self.tr("Unchecked: the layer is frozen, its weights stay fixed in training"))
        self.lr_scale_label.setText(self.tr("Learning-rate factor"))
        self.lr_scale_edit.setToolTip(self.tr("Multiplies the run's learning rate for this layer"))
        self._update_empty_text()
        if self.node_id is not None:
            self._refresh_values()  # the layer's doc comes from the core's catalog
            self._refresh_analysis()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def _parse(spec: ParamSpec, text: str) -> Any:
    """Text from a field -> the value to validate (validation itself is the declaration's)."""
    text = text.strip()
    if spec.optional and text.lower() in ("", "none"):
        return None
    if spec.kind == "ints":
        parts = [p for p in re.split(r"[,\s×x*]+", text) if p]
        try:
            return [int(p) for p in parts]
        except ValueError:
            return text
    if spec.kind == "int":
        try:
            return int(text)
        except ValueError:
            return text
    if spec.kind == "float":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _format(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value) if (abs(value) < 1e-3 and value) or abs(value) >= 1e6 else f"{value:g}"
    return str(value)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
