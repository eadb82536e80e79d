"""The canvas: dropping layers, connecting ports, refusals with reasons, moving cards."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest

from workbench.gui.canvas.node_item import MIN_HEIGHT, WIDTH
from workbench.gui.canvas.view import MIME_LAYER
from workbench.gui.main_window import blank_project


def _vp(window, scene_point: QPointF) -> QPoint:  # noqa: ANN001
    return window.view.mapFromScene(scene_point)


def drag(window, start: QPointF, end: QPointF, steps: int = 4) -> None:  # noqa: ANN001
    """Press at `start`, move to `end` in a few steps, release (scene coordinates)."""
    viewport = window.view.viewport()
    a, b = _vp(window, start), _vp(window, end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        p = a + (b - a) * (i / steps)
        QTest.mouseMove(viewport, p)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def drop_layer(window, type_id: str, viewport_pos: QPoint) -> None:  # noqa: ANN001
    mime = QMimeData()
    mime.setData(MIME_LAYER, QByteArray(type_id.encode()))
    event = QDropEvent(QPointF(viewport_pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.view.dropEvent(event)


def test_palette_drag_creates_node_at_drop_point(window) -> None:  # noqa: ANN001
    window.open_project(blank_project())
    # The palette puts the type id on the drag in our mime type.
    tree = window.palette_panel.tree
    item = tree.findItems("Linear", Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)[0]
    mime = tree.mimeData([item])
    assert bytes(mime.data(MIME_LAYER).data()).decode() == "Linear"

    target = QPoint(300, 320)
    drop_layer(window, "Linear", target)
    graph = window.session.graph
    added = [n for n in graph.nodes if n.type == "Linear"]
    assert len(added) == 1
    node = added[0]
    drop = window.view.mapToScene(target)
    center = QPointF(node.position[0] + WIDTH / 2, node.position[1] + MIN_HEIGHT / 2)
    assert abs(center.x() - drop.x()) <= 10 and abs(center.y() - drop.y()) <= 10  # snapped to the 20 px grid
    assert window.scene.nodes[node.id].pos() == QPointF(*node.position)
    assert window.scene.selected_node_ids() == [node.id]
    window.act_undo.trigger()
    assert not any(n.type == "Linear" for n in graph.nodes)


def test_drop_on_edge_inserts_layer(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    fc1, relu1 = graph.node_by_name("fc1"), graph.node_by_name("relu1")
    edge_item = editor.scene.edges[graph.edge_into(relu1.id, "in")]
    middle = edge_item.path().pointAtPercent(0.5)
    editor.view.centerOn(middle)
    drop_layer(editor, "Dropout", _vp(editor, middle))
    dropout = next(n for n in graph.nodes if n.type == "Dropout" and n.name != "dropout")
    assert graph.edge_into(dropout.id, "in").src == fc1.id
    assert graph.edge_into(relu1.id, "in").src == dropout.id


def test_connecting_ports_creates_edge_with_shape_label(window) -> None:  # noqa: ANN001
    window.open_project(blank_project())
    graph = window.session.graph
    flatten = window.add_layer_at("Flatten", QPointF(280, 40))
    window.session.flush()
    window.view.resetTransform()
    window.view.centerOn(QPointF(200, 40))
    source = window.scene.nodes[graph.node_by_name("input").id].output
    target = window.scene.nodes[flatten].inputs["in"]
    drag(window, source.scenePos(), target.scenePos())
    edge = graph.edge_into(flatten, "in")
    assert edge is not None and edge.src == graph.node_by_name("input").id
    window.session.flush()
    assert window.scene.edges[edge].label == "B×1×8×8"
    # The card of the new layer shows its inferred output shape.
    assert window.scene.nodes[flatten].shape_text == "B×64"


def test_invalid_connection_is_refused_with_its_reason(editor, qtbot) -> None:  # noqa: ANN001
    graph = editor.session.graph
    before = graph.to_dict()
    fc2, fc1 = graph.node_by_name("fc2"), graph.node_by_name("fc1")
    editor.view.resetTransform()
    editor.view.centerOn(QPointF((fc1.position[0] + fc2.position[0]) / 2, fc1.position[1]))
    source = editor.scene.nodes[fc2.id].output
    target = editor.scene.nodes[fc1.id].inputs["in"]
    with qtbot.waitSignal(editor.scene.connection_refused) as blocker:
        drag(editor, source.scenePos(), target.scenePos())
    reason = blocker.args[0]
    assert reason == graph.can_connect(fc2.id, fc1.id, "in")
    assert "already connected" in reason
    assert editor.scene.hint.isVisible() and editor.scene.hint.text == reason
    assert graph.to_dict() == before

    # A cycle: the reason names it.
    flatten = graph.node_by_name("flatten")
    editor.session.push(__import__("workbench.gui.commands", fromlist=["DisconnectCommand"]).DisconnectCommand(
        graph, graph.edge_into(flatten.id, "in")))
    reason = graph.can_connect(fc2.id, flatten.id, "in")
    assert reason is not None and "cycle" in reason
    with qtbot.waitSignal(editor.scene.connection_refused) as blocker:
        drag(editor, editor.scene.nodes[fc2.id].output.scenePos(), editor.scene.nodes[flatten.id].inputs["in"].scenePos())
    assert blocker.args[0] == reason


def test_dragging_cards_moves_them_in_one_undo_step(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    before = graph.to_dict()
    fc1 = graph.node_by_name("fc1")
    editor.view.resetTransform()
    editor.view.centerOn(QPointF(fc1.position[0] + 100, fc1.position[1] + 100))
    grab = QPointF(fc1.position[0] + 60, fc1.position[1] + 50)
    count = editor.session.undo_stack.count()
    drag(editor, grab, grab + QPointF(120, 160), steps=6)
    moved = graph.node(fc1.id).position
    assert moved == (fc1.position[0] + 120, fc1.position[1] + 160) or moved != before["nodes"][2]["position"]
    assert editor.session.undo_stack.count() == count + 1  # merged while dragging
    after = graph.to_dict()
    editor.act_undo.trigger()
    assert graph.to_dict() == before
    assert editor.scene.nodes[fc1.id].pos() == QPointF(*graph.node(fc1.id).position)
    editor.act_redo.trigger()
    assert graph.to_dict() == after


def test_dragging_an_edge_off_its_input_disconnects_it(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    relu1 = graph.node_by_name("relu1")
    editor.view.resetTransform()
    editor.view.centerOn(QPointF(*relu1.position))
    port = editor.scene.nodes[relu1.id].inputs["in"]
    drag(editor, port.scenePos(), port.scenePos() + QPointF(0, 200))
    assert graph.edge_into(relu1.id, "in") is None
    editor.act_undo.trigger()
    assert graph.edge_into(relu1.id, "in") is not None


def test_only_changed_items_are_touched(editor) -> None:  # noqa: ANN001
    items = dict(editor.scene.nodes)
    edges = dict(editor.scene.edges)
    editor.add_layer_at("ReLU", QPointF(0, 400))
    assert all(editor.scene.nodes[nid] is item for nid, item in items.items())
    assert all(editor.scene.edges[e] is item for e, item in edges.items())


def test_two_hundred_nodes_build_once_and_an_edit_touches_only_its_own_items(window) -> None:  # noqa: ANN001
    from workbench.graph.document import Graph
    from workbench.project import Project

    graph = Graph()
    prev = graph.add_node("Input", params={"kind": "vector", "shape": [16]}).id
    for i in range(198):
        nid = graph.add_node("Linear" if i % 2 == 0 else "ReLU", params={"out_features": 16} if i % 2 == 0 else None,
                             position=((i + 1) * 210.0, (i % 7) * 120.0)).id
        graph.connect(prev, nid)
        prev = nid
    graph.connect(prev, graph.add_node("Output", params={"loss": "mse"}, position=(42000.0, 0.0)).id)
    window.open_project(Project(name="big", graph=graph))
    window.session.flush()
    assert len(window.scene.nodes) == 200 and len(window.scene.edges) == 199
    items, edges = dict(window.scene.nodes), dict(window.scene.edges)
    window.add_layer_at("ReLU", QPointF(0, 900))
    window.session.flush()
    # The cost of an edit is what it changes, not the graph's size (timed in benchmarks/): the
    # 200 cards and 199 edges stay the same objects, one card is added.
    assert len(window.scene.nodes) == 201
    assert all(window.scene.nodes[nid] is item for nid, item in items.items())
    assert all(window.scene.edges[e] is item for e, item in edges.items())


def test_ports_that_mean_different_things_are_named_on_the_card(window) -> None:  # noqa: ANN001
    from workbench.gui.commands import SetParamCommand

    window.open_project(blank_project())
    graph = window.session.graph
    xattn = window.add_layer_at("CrossAttention", QPointF(280, 40))
    add = window.add_layer_at("Add", QPointF(280, 240))
    window.session.flush()
    card = window.scene.nodes[xattn]
    assert {p: item.label for p, item in card.inputs.items()} == {"queries": "queries", "memory": "memory"}
    assert card.inputs["queries"].scenePos().y() < card.inputs["memory"].scenePos().y()
    memory = card.inputs["memory"]
    # the name lies left of the card, and pressing on it does not start a connection
    assert memory.mapRectToScene(memory.label_rect()).right() < card.scenePos().x()
    assert memory.contains(QPointF(0, 0)) and not memory.contains(memory.label_rect().center())
    assert [item.label for item in window.scene.nodes[add].inputs.values()] == ["", ""]

    window.session.push(SetParamCommand(graph, xattn, "mask_padding", True))
    window.session.flush()
    assert [item.label for item in window.scene.nodes[xattn].inputs.values()] == ["queries", "memory", "memory_ids"]
