"""A layer dropped onto an edge makes room: the cards downstream shift so that no card covers
another, in the same undo step as the insert."""

from __future__ import annotations

import itertools

import pytest

from PySide6.QtCore import QPointF, QRectF

from workbench.graph.document import Graph
from workbench.gui.canvas.layout import make_room
from workbench.gui.canvas.node_item import MIN_HEIGHT, WIDTH
from workbench.gui.main_window import blank_project
from workbench.presets import load_preset


def _overlaps(window) -> list[tuple[str, str]]:  # noqa: ANN001
    items = window.scene.nodes
    rects = {nid: QRectF(item.pos().x(), item.pos().y(), WIDTH, item.height) for nid, item in items.items()}
    names = {n.id: n.name for n in window.session.graph.nodes}
    return [(names[a], names[b]) for a, b in itertools.combinations(rects, 2) if rects[a].intersects(rects[b])]


def _drop_on_edge(window, src_name: str, dst_name: str, type_id: str) -> str:  # noqa: ANN001
    graph = window.session.graph
    dst = graph.node_by_name(dst_name)
    edge = graph.edge_into(dst.id, "in")
    assert graph.node(edge.src).name == src_name
    middle = window.scene.edges[edge].path().pointAtPercent(0.5)
    new_id = window.add_layer_at(type_id, middle)
    assert new_id is not None and graph.node(new_id).type == type_id
    assert graph.edge_into(new_id, "in").src == edge.src and graph.edge_into(dst.id, "in").src == new_id
    return new_id


@pytest.mark.parametrize("layout", ["wrapped", "straight"])
def test_dropping_on_an_edge_shifts_the_downstream_cards(editor, qtbot, layout: str) -> None:  # noqa: ANN001
    if layout == "wrapped":  # the preset opens in rows once the view has its size
        qtbot.waitUntil(lambda: len({n.position[1] for n in editor.session.graph.nodes}) > 1)
    else:  # as the preset file draws it, one long line (a recovered project opens so)
        editor.open_project(load_preset("digits-mlp"), dirty=True)
        editor.session.flush()
        assert len({n.position[1] for n in editor.session.graph.nodes}) == 1
    graph = editor.session.graph
    before = {n.id: n.position for n in graph.nodes}
    dict_before = graph.to_dict()
    assert not _overlaps(editor)
    new_id = _drop_on_edge(editor, "fc1", "relu1", "Dropout")
    editor.session.flush()
    assert not _overlaps(editor), _overlaps(editor)
    moved = {graph.node(nid).name for nid, pos in before.items() if graph.node(nid).position != pos}
    # relu1 moved aside (with what follows it in its row or line); fc1 and everything before it stayed.
    assert "relu1" in moved
    assert not moved & {"digits", "flatten", "fc1"}
    if layout == "straight":  # everything after the drop moves right, the line stays a line
        assert {"dropout", "fc2", "head", "output"} <= moved
        assert len({n.position[1] for n in graph.nodes}) == 1
    # One undo step takes back the insert and every move.
    assert editor.session.undo_stack.count() == 1
    editor.act_undo.trigger()
    assert graph.to_dict() == dict_before
    assert {nid: tuple(editor.scene.nodes[nid].pos().toTuple()) for nid in before} == before
    editor.act_redo.trigger()
    assert graph.has_node(new_id) and not _overlaps(editor)


def test_a_dropped_card_with_room_to_spare_moves_nothing(window) -> None:  # noqa: ANN001
    project = blank_project()
    project.graph.connect(project.graph.node_by_name("input").id, project.graph.node_by_name("output").id)
    window.open_project(project)
    graph = window.session.graph
    before = {n.id: n.position for n in graph.nodes}  # input at x=0, output at x=420
    _drop_on_edge(window, "input", "output", "Flatten")
    assert {n.id: n.position for n in graph.nodes if n.id in before} == before
    assert not _overlaps(window)


def test_make_room_keeps_upstream_cards_and_shifts_a_downwards_chain_down() -> None:
    graph = Graph()
    a = graph.add_node("Input").id
    b = graph.add_node("Flatten").id
    c = graph.add_node("Linear").id
    graph.connect(a, b)
    graph.connect(b, c)
    h = MIN_HEIGHT
    rects = {a: (0.0, 0.0, WIDTH, h), b: (0.0, 100.0, WIDTH, h), c: (0.0, 200.0, WIDTH, h)}
    position, moved = make_room(graph, rects, a, b, (0.0, 60.0, WIDTH, h), gap=40.0, grid=20.0)
    assert MIN_HEIGHT == 82
    assert position == (0.0, 140.0)  # below a (which ends at 82), the 40 gap, up to the grid
    assert set(moved) == {b, c}
    assert moved[b][1] >= position[1] + h + 40 and moved[b][0] == 0.0
    assert moved[c][1] - moved[b][1] == 100.0  # the chain keeps its spacing
    assert all(v % 20 == 0 for v in moved[b] + moved[c])


def test_make_room_on_the_edge_back_to_the_next_row_shifts_only_that_row() -> None:
    graph = Graph()
    a, b, c, d = (graph.add_node(t).id for t in ("Input", "Flatten", "Linear", "ReLU"))
    graph.connect(a, b)
    graph.connect(b, c)
    graph.connect(c, d)
    h = MIN_HEIGHT
    # Row one: a, b; row two: c, d (a wrapped chain); the drop is on b → c.
    rects = {a: (0.0, 0.0, WIDTH, h), b: (220.0, 0.0, WIDTH, h), c: (0.0, 170.0, WIDTH, h), d: (220.0, 170.0, WIDTH, h)}
    position, moved = make_room(graph, rects, b, c, (200.0, 120.0, WIDTH, h), gap=40.0, grid=20.0)
    assert position == (0.0, 170.0)  # the new card starts the second row
    assert moved == {c: (180.0, 170.0), d: (400.0, 170.0)}
