"""The run settings form: generated from the settings' declarations, one editor each, and
following the project's settings events (edits, undo, redo) without ever writing back."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QGroupBox, QLineEdit

from workbench.gui.i18n import install_language
from workbench.gui.training.commands import SetRunSettingsCommand
from workbench.gui.training.setting_editors import INT_LIMIT
from workbench.project import SETTINGS_RECORDS
from workbench.settings_spec import SettingSpec, declarations

DECLARED = {f"{key}.{spec.name}": spec for key, record in SETTINGS_RECORDS.items() for spec in declarations(record)}


def _group_title(widget) -> str:  # noqa: ANN001
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QGroupBox):
        parent = parent.parentWidget()
    return parent.title() if parent is not None else ""


def _resolution(spec: SettingSpec, spin: QAbstractSpinBox) -> float:
    return 1 if spec.kind == "int" else 10.0 ** -spin.decimals()


def test_the_form_has_one_editor_per_declaration_with_its_range_choices_label_and_help(editor) -> None:  # noqa: ANN001
    form = editor.training.form
    assert set(form.editors) == set(DECLARED)
    widgets = [form.editor(path) for path in DECLARED]
    assert len({id(w) for w in widgets}) == len(widgets)
    for path, spec in DECLARED.items():
        widget = form.editor(path)
        assert form.captions[path].text() == spec.label, path
        assert widget.toolTip() == spec.doc == form.captions[path].toolTip(), path
        assert _group_title(widget) == spec.group, path
        if spec.kind == "choice":
            assert isinstance(widget, QComboBox)
            assert tuple(widget.itemData(i) for i in range(widget.count())) == spec.choices, path
        if spec.kind in ("int", "float"):
            assert isinstance(widget, QAbstractSpinBox)
            lowest = widget.minimum()
            if spec.optional:  # the box's lowest value is None, shown as "off" (or "auto")
                assert widget.specialValueText() == spec.none_means
                lowest += _resolution(spec, widget)
            # Both ends are accepted values, and the range leaves out no accepted one.
            assert spec.problem(lowest) is None and spec.problem(widget.maximum()) is None, path
            if spec.minimum is not None and spec.scale == "linear":
                assert spec.problem(lowest - _resolution(spec, widget)) is not None, path
            if spec.maximum is not None and widget.maximum() < INT_LIMIT:  # (a seed goes to 2**63; a box to 2**31)
                assert spec.problem(widget.maximum() + _resolution(spec, widget)) is not None, path
    # A log-scale box reaches 0 exactly when 0 is accepted.
    assert form.editor("training.weight_decay").minimum() == 0 and form.editor("training.lr").minimum() > 0
    # The form changed nothing by being built and shown.
    assert editor.session.undo_stack.count() == 0


def test_undo_and_redo_of_a_settings_change_update_the_form(editor, user_edit, qtbot) -> None:  # noqa: ANN001
    form = editor.training.form
    project, stack = editor.session.project, editor.session.undo_stack
    epochs = form.editor("training.epochs")
    before = project.training.epochs
    user_edit(epochs, 7)
    assert project.training.epochs == 7 and stack.count() == 1
    stack.undo()
    assert epochs.value() == before
    stack.redo()
    assert epochs.value() == 7
    # An edit that does not come from the form shows in it as well, enabled state included.
    optimizer, momentum = form.editor("training.optimizer"), form.editor("training.momentum")
    assert not momentum.isEnabled()
    with qtbot.waitSignal(editor.session.settings_changed) as blocker:
        stack.push(SetRunSettingsCommand(project, "training.optimizer", training=project.training.replace(optimizer="sgd")))
    assert blocker.args[0].paths == {"training.optimizer"}
    assert optimizer.currentData() == "sgd" and momentum.isEnabled()
    assert stack.undoText() == "Change Optimizer"
    stack.undo()
    assert optimizer.currentData() == "adam" and not momentum.isEnabled()
    # The dataset too: the reader's file is enabled only for a reader.
    source, path = form.editor("dataset.source"), form.editor("dataset.path")
    user_edit(source, "csv")
    assert path.isEnabled() and form.browse.isEnabled()
    user_edit(path, "data.csv")
    assert project.dataset.path == "data.csv"
    stack.undo()
    assert isinstance(path, QLineEdit) and path.text() == ""
    stack.undo()
    assert source.currentData() == "digits" and not path.isEnabled() and not form.browse.isEnabled()


def test_showing_a_value_never_writes_it_back(editor) -> None:  # noqa: ANN001
    """Values a widget can only show rounded or clamped stay as the project has them, also when
    the user merely passes through the fields."""
    form = editor.training.form
    project, stack = editor.session.project, editor.session.undo_stack
    odd = project.training.replace(seed=2**40, lr=1.23456789e-7, momentum=0.12345, grad_clip=0.0004)
    stack.push(SetRunSettingsCommand(project, "training.seed", training=odd))
    assert form.editor("training.seed").value() == form.editor("training.seed").maximum()  # clamped on screen
    assert form.editor("training.momentum").value() == pytest.approx(0.123)  # rounded on screen
    for widget in (form.editor(path) for path in DECLARED):
        if hasattr(widget, "editingFinished"):
            widget.editingFinished.emit()  # focus left the field without typing
    stack.undo()
    stack.redo()
    assert stack.count() == 1 and project.training == odd


def test_labels_help_and_undo_texts_are_translated(editor, user_edit) -> None:  # noqa: ANN001
    form = editor.training.form
    assert install_language("zh_CN") == "zh_CN"
    try:
        form.retranslate()
        assert form.captions["training.lr"].text() == "学习率"
        assert form.captions["dataset.seed"].text() == "划分种子"
        assert form.groups["Optimizer"].title() == "优化器"
        assert form.editor("training.lr").toolTip().startswith("每次更新的步幅")
        assert form.editor("training.grad_clip").text() == "关"
        user_edit(form.editor("training.lr"), "0.01")
        assert editor.session.undo_stack.undoText() == "修改 学习率"
    finally:
        install_language("en")
        form.retranslate()
    assert form.captions["training.lr"].text() == "Learning rate"
