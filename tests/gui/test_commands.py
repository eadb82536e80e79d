"""Undo/redo returns the document to exactly its earlier state; copy/paste keeps inner edges."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from workbench.gui.commands import (
    ConnectCommand,
    DisconnectCommand,
    MoveNodesCommand,
    RemoveCommand,
    RenameCommand,
    SetParamCommand,
)


def _roundtrip(window, action) -> None:  # noqa: ANN001
    """Run `action`, then check undo gives the state before and redo the state after."""
    graph = window.session.graph
    before = graph.to_dict()
    action()
    window.session.flush()
    after = graph.to_dict()
    assert after != before
    window.act_undo.trigger()
    assert graph.to_dict() == before
    window.act_redo.trigger()
    assert graph.to_dict() == after
    window.act_undo.trigger()
    assert graph.to_dict() == before
    # The canvas follows: one card per node at the document's position, one curve per edge.
    assert set(window.scene.nodes) == {n.id for n in graph.nodes}
    assert set(window.scene.edges) == set(graph.edges)
    for node in graph.nodes:
        assert window.scene.nodes[node.id].pos() == QPointF(*node.position)


def test_undo_redo_add(editor) -> None:  # noqa: ANN001
    _roundtrip(editor, lambda: editor.add_layer_at("GELU", QPointF(500, 500)))


def test_undo_redo_connect_and_disconnect(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    relu = editor.add_layer_at("ReLU", QPointF(500, 500))
    fc2 = graph.node_by_name("fc2").id
    _roundtrip(editor, lambda: editor.session.push(ConnectCommand(graph, fc2, relu)))
    edge = graph.edge_into(graph.node_by_name("relu1").id, "in")
    _roundtrip(editor, lambda: editor.session.push(DisconnectCommand(graph, edge)))


def test_undo_redo_delete_restores_order_exactly(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    middle = [graph.node_by_name("fc1").id, graph.node_by_name("dropout").id]

    def delete() -> None:
        editor.scene.select_nodes(middle)
        editor.act_delete.trigger()

    _roundtrip(editor, delete)
    # A lone edge too.
    edge = graph.edges[3]
    _roundtrip(editor, lambda: editor.session.push(RemoveCommand(graph, [], [edge])))


def test_undo_redo_move(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    ids = [n.id for n in graph.nodes[:3]]
    old = {nid: graph.node(nid).position for nid in ids}
    new = {nid: (p[0] + 40, p[1] + 300) for nid, p in old.items()}
    _roundtrip(editor, lambda: editor.session.push(MoveNodesCommand(graph, old, new)))


def test_moves_of_one_gesture_merge(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    nid = graph.nodes[1].id
    start = graph.node(nid).position
    stack = editor.session.undo_stack
    count = stack.count()
    for k in range(1, 6):
        editor.session.push(MoveNodesCommand(graph, {nid: start}, {nid: (start[0] + 20 * k, start[1])}, gesture=77))
    assert stack.count() == count + 1
    stack.undo()
    assert graph.node(nid).position == start


def test_undo_redo_param_change_through_the_inspector(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    fc1 = graph.node_by_name("fc1")
    editor.scene.select_nodes([fc1.id])
    spin = editor.inspector.field_editor("out_features")
    assert spin.value() == fc1.params["out_features"]
    _roundtrip(editor, lambda: spin.setValue(48))
    # The card and the shapes follow the undone value.
    editor.session.flush()
    assert editor.scene.nodes[fc1.id].shape_text == f"B×{fc1.params['out_features']}"


def test_param_change_that_drops_edges_comes_back_on_undo(window) -> None:  # noqa: ANN001
    assert window.open_preset("digits-resnet")
    graph = window.session.graph
    add = next(n for n in graph.nodes if n.type == "Add")
    # Lowering a merge's input count is refused by the declaration (min 2)...
    assert SetParamCommand(graph, add.id, "inputs", 1).check() is not None
    # ...raising then lowering works, and undo restores the edges exactly.
    window.session.push(SetParamCommand(graph, add.id, "inputs", 3))
    feeder = graph.edge_into(add.id, "in1").src
    assert window.session.push(ConnectCommand(graph, feeder, add.id, "in3"))
    edges_before = len(graph.edges)
    _roundtrip(window, lambda: window.session.push(SetParamCommand(graph, add.id, "inputs", 2)))
    assert graph.edge_into(add.id, "in3") is not None and len(graph.edges) == edges_before


def test_invalid_param_is_refused_with_reason_never_clamped(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    fc1 = graph.node_by_name("fc1")
    before = graph.to_dict()
    editor.scene.select_nodes([fc1.id])
    spin = editor.inspector.field_editor("out_features")
    spin.setValue(0)
    assert graph.to_dict() == before
    assert spin.value() == 0  # what the user typed stays visible, marked
    message = editor.inspector.field_error("out_features")
    assert message.startswith("'out_features' must be an integer from 1") and message.endswith("got 0")
    spin.setValue(10)
    assert graph.node(fc1.id).params["out_features"] == 10
    assert editor.inspector.field_error("out_features") == ""


def test_rename_refused_and_undone(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    fc1 = graph.node_by_name("fc1").id
    assert RenameCommand(graph, fc1, "fc2").check() is not None
    _roundtrip(editor, lambda: editor.session.push(RenameCommand(graph, fc1, "hidden")))


def test_copy_paste_keeps_inner_edges(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    chosen = [graph.node_by_name(n).id for n in ("fc1", "relu1", "dropout")]
    editor.scene.select_nodes(chosen)
    assert editor.copy()
    before_ids = {n.id for n in graph.nodes}
    before_names = {n.name for n in graph.nodes}
    new_ids = editor.paste()
    assert len(new_ids) == 3 and not set(new_ids) & before_ids
    new_nodes = [graph.node(i) for i in new_ids]
    assert not {n.name for n in new_nodes} & before_names
    assert [n.type for n in new_nodes] == ["Linear", "ReLU", "Dropout"]
    inner = [e for e in graph.edges if e.src in new_ids and e.dst in new_ids]
    assert len(inner) == 2
    # Only the inner edges: nothing connects the copies to the rest.
    assert not [e for e in graph.edges if (e.src in new_ids) != (e.dst in new_ids)]
    assert editor.scene.selected_node_ids() == new_ids
    assert new_nodes[0].params == graph.node(chosen[0]).params
    # Undo removes the whole paste.
    editor.act_undo.trigger()
    assert {n.id for n in graph.nodes} == before_ids


def test_duplicate_and_cut(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    chosen = [graph.node_by_name(n).id for n in ("fc2", "relu2")]
    editor.scene.select_nodes(chosen)
    _roundtrip(editor, editor.duplicate)
    editor.scene.select_nodes(chosen)
    _roundtrip(editor, editor.cut)


def test_auto_layout_is_one_undo_step(window) -> None:  # noqa: ANN001
    assert window.open_preset("digits-resnet")
    graph = window.session.graph
    # Presets ship laid out; knock a few cards out of place so the layout has work to do.
    for i, node in enumerate(graph.nodes[2:6]):
        graph.move(node.id, (30.0 * i, 400.0))
    window.session.flush()
    _roundtrip(window, window.auto_layout)
    window.act_redo.trigger()
    # Cards in one column never overlap, and depth grows left to right along every edge.
    for e in graph.edges:
        assert graph.node(e.src).position[0] < graph.node(e.dst).position[0]
    positions = [n.position for n in graph.nodes]
    assert len(set(positions)) == len(positions)
