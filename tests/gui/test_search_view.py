"""Run › Search…: a short study run from the view fills the table and the plots; applying a
trial changes the project in one undo step, and undo restores it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.gui.search import SearchWindow
from workbench.gui.search.view import entry_text, parse_entry
from workbench.gui.session import EditorSession
from workbench.presets import resolve_project

pytestmark = pytest.mark.usefixtures("no_dangling_threads")


@pytest.fixture
def view(qtbot, tmp_path: Path) -> SearchWindow:
    project = resolve_project("digits-mlp")
    project.path = tmp_path / "digits.json"  # storage and trial runs go beside it
    window = SearchWindow(EditorSession(project))
    qtbot.addWidget(window)
    # A tiny search: one epoch of a dozen steps per trial, over the rate and fc1's width.
    for name, text, searched in (("epochs", "1", False), ("batch_size", "128", False), ("optimizer", "adam", False),
                                 ("scheduler", "", False), ("weight_decay", "", False), ("dropout.p", "", False),
                                 ("fc2.out_features", "", False), ("lr", "0.001..0.1 log", True),
                                 ("fc1.out_features", "16, 32", True)):
        window.set_entry(name, text, searched)
    window.trials.setValue(3)
    return window


def test_a_three_trial_study_fills_the_table_and_the_scatter(qtbot, view: SearchWindow) -> None:
    with qtbot.waitSignal(view.search_finished, timeout=300_000):
        assert view.start()
    assert view.table.rowCount() == 3
    states = {view.table.item(row, 1).text().split()[0] for row in range(3)}
    assert states == {"complete"}
    plotted = len(view.scatter.points.data) + len(view.scatter.front.data)
    assert plotted == 3
    assert len(view.scatter.front.data) == len(view.snapshot.front) >= 1
    header = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert header[:4] == ["Trial", "State", "val_accuracy", "params"]
    assert "fc1.out_features" in header and "lr" in header


def test_applying_a_trial_is_one_undo_step(qtbot, view: SearchWindow) -> None:
    with qtbot.waitSignal(view.search_finished, timeout=300_000):
        view.start()
    project = view.session.project
    before_graph, before_training = project.graph.to_dict(), project.training
    view.select_trial(1)
    trial = view.snapshot.trial(1)
    assert view.apply_button.isEnabled()
    assert view.apply_selected()
    assert project.graph.node_by_name("fc1").params["out_features"] == trial.params["fc1.out_features"] != 128
    assert project.training.lr == trial.params["lr"]
    stack = view.session.undo_stack
    assert stack.count() == 1 and stack.undoText() == "Apply trial 1"
    stack.undo()
    assert project.graph.to_dict() == before_graph
    assert project.training == before_training
    stack.redo()
    assert project.graph.node_by_name("fc1").params["out_features"] == trial.params["fc1.out_features"]


def test_a_bad_space_entry_is_shown_and_nothing_starts(view: SearchWindow) -> None:
    view.set_entry("lr", "-1..0.1 log", True)
    assert not view.start()
    assert "lr" in view.status.text() and not view.running


@pytest.mark.parametrize("entry", [[16, 32, 64], {"low": 0.001, "high": 0.1, "log": True}, ["adam", "sgd"], 5,
                                   {"low": 16, "high": 64, "step": 16}])
def test_space_entries_read_back_as_written(entry) -> None:
    assert parse_entry(entry_text(entry)) == entry


def test_run_search_opens_the_view_of_the_open_project(editor) -> None:  # noqa: ANN001
    assert editor.act_search in editor.run_menu.actions()
    editor.act_search.trigger()
    view = editor._search_window
    assert view.isVisible() and view.session is editor.session
    names = [view.space_table.item(r, 1).text() for r in range(view.space_table.rowCount())]
    assert {"lr", "fc1.out_features", "fc2.out_features", "dropout.p"} <= set(names)
    assert view.chosen_objectives() == ["val_accuracy", "params"]
    editor.act_search.trigger()
    assert editor._search_window is view  # one view per open project
    view.close()


def test_the_inspector_marks_a_param_searchable_as_an_undo_step(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    head = graph.node_by_name("fc2")
    relu = graph.node_by_name("relu1")
    editor.inspector.show_node(graph.node_by_name("fc1").id)
    assert editor.inspector.search_toggle.isChecked()  # fc1 has search values: they show
    editor.inspector.show_node(relu.id)
    assert editor.inspector.search_toggle is None  # no numeric params
    dropout = graph.node_by_name("dropout")
    editor.inspector.show_node(dropout.id)
    assert not editor.inspector.search_toggle.isChecked()  # nothing marked: the rows stay hidden
    assert not editor.inspector.form.isRowVisible(editor.inspector._search_rows[0])
    editor.inspector.search_toggle.setChecked(True)
    assert editor.inspector.form.isRowVisible(editor.inspector._search_rows[0])
    editor.inspector.show_node(head.id)
    field = editor.inspector._search_fields["out_features"]
    assert field.editor.text() == "16, 32, 64, 128"  # the preset marks it
    field.editor.setText("8..64 log")
    field.editor.editingFinished.emit()
    assert head.search == {"out_features": {"low": 8, "high": 64, "log": True}}
    field.editor.setText("eight")
    field.editor.editingFinished.emit()
    assert "separated by commas" in field.error.text()
    assert head.search == {"out_features": {"low": 8, "high": 64, "log": True}}
    editor.session.undo_stack.undo()
    assert head.search == {"out_features": [16, 32, 64, 128]}
    assert field.editor.text() == "16, 32, 64, 128"
    assert "dropout" not in [n.name for n in graph.nodes if n.search]  # a Dropout's p is searched by default instead


@pytest.mark.slow
def test_one_worker_per_device_shares_the_trials_of_one_study(qtbot, view: SearchWindow) -> None:
    view.devices.setText("cpu, cpu")  # two workers; on a GPU machine, cuda:0, cuda:1
    view.trials.setValue(4)
    with qtbot.waitSignal(view.search_finished, timeout=300_000):
        assert view.start()
        assert len(view._threads) == 2
    assert sorted(t.number for t in view.snapshot.trials) == [0, 1, 2, 3]
    assert {t.state for t in view.snapshot.trials} == {"COMPLETE"}
    assert len({t.run_dir for t in view.snapshot.trials}) == 4
    assert view.table.rowCount() == 4
    trained = json.loads((Path(view.snapshot.trials[0].run_dir) / "project.json").read_text())
    assert trained["training"]["device"] == "cpu"


def test_a_malformed_device_is_refused(view: SearchWindow) -> None:
    view.devices.setText("cpu, gpu7")
    assert not view.start()
    assert "gpu7" in view.status.text()


def test_stop_ends_the_running_trial_and_starts_no_other(qtbot, view: SearchWindow) -> None:
    view.set_entry("epochs", "200", False)  # long enough to be stopped in its first trial
    view.trials.setValue(5)
    with qtbot.waitSignal(view.search_finished, timeout=300_000):
        assert view.start()
        qtbot.waitUntil(lambda: "epoch" in view.status.text(), timeout=120_000)
        view.shutdown()
    assert not view.running
    assert [(t.number, t.state) for t in view.snapshot.trials] == [(0, "FAIL")]
    assert "stopped" in view.snapshot.trials[0].message
