"""A network follows its data: changing the dataset offers the fit as one undoable edit of the
drawing, declining keeps the drawing, and a run that fitted its copy is followed by the canvas."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.data.bundle import DatasetSpec
from workbench.gui.training.commands import SetRunSettingsCommand

pytestmark = pytest.mark.usefixtures("no_dangling_threads")


def _choose_dataset(window, qtbot, name: str, **options: object):  # noqa: ANN001, ANN202
    project = window.session.project
    follower = window.data_follower
    with qtbot.waitSignal(follower.checked, timeout=60_000):
        window.session.undo_stack.push(SetRunSettingsCommand(project, "dataset.source",
                                                             dataset=DatasetSpec(name, options=options)))
    return follower


def test_a_new_dataset_offers_the_fit_and_one_undo_takes_it_back(editor, qtbot) -> None:  # noqa: ANN001
    graph = editor.session.graph
    before = graph.to_dict()
    follower = _choose_dataset(editor, qtbot, "spirals")  # 2 features, 3 classes
    assert follower.bar.isVisible()
    text = follower.bar.text.text()
    assert "spirals" in text and "vector 2" in text and "3 outputs" in text
    assert graph.to_dict() == before  # only offered, nothing changed yet
    steps = editor.session.undo_stack.count()
    qtbot.mouseClick(follower.bar.fit_button, Qt.MouseButton.LeftButton)
    digits, fc2 = graph.node_by_name("digits"), graph.node_by_name("fc2")
    head = graph.node(graph.edge_into(graph.node_by_name("output").id, "in").src)
    assert digits.params["kind"] == "vector" and list(digits.params["shape"]) == [2]
    assert head.params["out_features"] == 3
    assert fc2.params == before["nodes"][[n["name"] for n in before["nodes"]].index("fc2")]["params"]
    assert not follower.bar.isVisible()
    editor.session.flush()
    assert editor.session.analysis.ok, [p.message for p in editor.session.analysis.problems]
    # The canvas shows the new Input.
    assert "2" in editor.scene.nodes[digits.id].summary_text and "8" not in editor.scene.nodes[digits.id].summary_text
    assert editor.session.undo_stack.count() == steps + 1
    editor.act_undo.trigger()
    assert graph.to_dict() == before
    assert editor.session.project.dataset.source == "spirals"  # the dataset edit is a step of its own


def test_a_regression_dataset_changes_the_loss_too(editor, qtbot) -> None:  # noqa: ANN001
    follower = _choose_dataset(editor, qtbot, "regression")
    assert follower.fit()
    graph = editor.session.graph
    assert graph.node_by_name("output").params["loss"] == "mse"
    assert list(graph.node_by_name("digits").params["shape"]) == [10]


def test_keep_as_drawn_leaves_the_drawing(editor, qtbot) -> None:  # noqa: ANN001
    graph = editor.session.graph
    before = graph.to_dict()
    follower = _choose_dataset(editor, qtbot, "moons")
    qtbot.mouseClick(follower.bar.keep_button, Qt.MouseButton.LeftButton)
    assert not follower.bar.isVisible()
    assert graph.to_dict() == before


def test_data_the_drawing_already_fits_offers_nothing(editor, qtbot) -> None:  # noqa: ANN001
    follower = _choose_dataset(editor, qtbot, "spirals")
    follower.fit()
    with qtbot.assertNotEmitted(follower.offered):
        _choose_dataset(editor, qtbot, "spirals", noise=0.1)  # other points, the same shapes
    assert not follower.bar.isVisible()


def test_undoing_a_dataset_change_offers_nothing(editor, qtbot) -> None:  # noqa: ANN001
    follower = _choose_dataset(editor, qtbot, "spirals")
    assert follower.bar.isVisible()
    with qtbot.assertNotEmitted(follower.checked, wait=300):
        editor.act_undo.trigger()
    qtbot.waitUntil(lambda: not follower.bar.isVisible())
    assert not follower.live_load()
    assert editor.session.project.dataset.source == "digits"


def test_the_canvas_follows_a_run_that_fitted_the_input(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    digits = graph.node_by_name("digits")
    before = graph.to_dict()
    # What a run's "prepared" record says it changed (workbench.training.child).
    editor.training.data_fitted.emit({digits.id: {"kind": "image", "shape": [1, 16, 16]}, "gone": {"x": 1}})
    assert list(graph.node(digits.id).params["shape"]) == [1, 16, 16]
    editor.session.flush()
    assert "16" in editor.scene.nodes[digits.id].summary_text
    editor.session.undo_stack.undo()
    assert graph.to_dict() == before
