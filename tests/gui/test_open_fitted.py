"""Presets open fitted and legible: at a 1440×900 window every card of a long chain is in view
and the shape tags are at least 9 pt on screen; a user's own file keeps its layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainterPathStroker
from PySide6.QtWidgets import QApplication

from workbench.gui.canvas.edge_item import TAG_POINT_SIZE
from workbench.gui.canvas.layout import wrap_layout
from workbench.gui.canvas.node_item import MIN_HEIGHT, WIDTH
from workbench.presets import load_preset
from workbench.project import save_project


def _open(window, qtbot, name: str) -> None:  # noqa: ANN001
    window.resize(1440, 900)
    QApplication.processEvents()
    assert window.open_preset(name)
    qtbot.waitUntil(lambda: window.zoom_label.text() != "")
    for _ in range(3):
        QApplication.processEvents()


def _card_rects(window) -> dict[str, QRectF]:  # noqa: ANN001
    return {nid: item.sceneBoundingRect() for nid, item in window.scene.nodes.items()}


@pytest.mark.parametrize("name", ["digits-mlp", "digits-cnn", "tiny-gpt"])
def test_a_preset_opens_whole_and_readable_at_1440_by_900(window, qtbot, name: str) -> None:  # noqa: ANN001
    _open(window, qtbot, name)
    view = window.view
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for nid, rect in _card_rects(window).items():
        assert visible.contains(rect), f"{window.session.graph.node(nid).name} is outside the view"
    assert TAG_POINT_SIZE * view.zoom() >= 9.0, view.zoom()
    # Opening is not an edit.
    assert window.session.undo_stack.count() == 0 and not window.isWindowModified()
    # No wire runs across a card other than its own two.
    cards = _card_rects(window)
    stroker = QPainterPathStroker()
    stroker.setWidth(1.0)
    for edge, item in window.scene.edges.items():
        wire = stroker.createStroke(item.path())  # the line itself, not the area it encloses
        for nid, rect in cards.items():
            if nid not in (edge.src, edge.dst):
                assert not wire.intersects(rect.adjusted(4, 4, -4, -4)), (edge, nid)
        assert not item.label_item.sceneBoundingRect().intersects(cards[edge.src].adjusted(8, 0, -8, 0))


def test_a_users_file_keeps_its_layout(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    project = load_preset("digits-cnn")
    path = tmp_path / "mine.json"
    save_project(project, path)
    before = {n.id: n.position for n in project.graph.nodes}
    window.resize(1440, 900)
    assert window.open_file(str(path))
    qtbot.waitUntil(lambda: window.zoom_label.text() != "")
    QApplication.processEvents()
    assert {n.id: n.position for n in window.session.graph.nodes} == before
    assert window.view.zoom() >= 0.75


def test_wrap_layout_keeps_a_chain_in_order_row_by_row() -> None:
    graph = load_preset("digits-cnn").graph  # 12 layers in one chain
    positions, zoom = wrap_layout(graph, 800, 530, (WIDTH, MIN_HEIGHT))
    assert zoom == 1.0
    order = [n.id for n in graph.nodes]
    rows = sorted({y for _, y in positions.values()})
    assert len(rows) == 3
    reading = sorted(order, key=lambda nid: (positions[nid][1], positions[nid][0]))
    assert reading == order  # left to right, then the next row, like text
    assert max(x for x, _ in positions.values()) + WIDTH <= 800
    # A narrow view: more rows, smaller zoom, never larger than 100 %.
    narrow, narrow_zoom = wrap_layout(graph, 400, 900, (WIDTH, MIN_HEIGHT))
    assert len({y for _, y in narrow.values()}) > 3 and narrow_zoom <= 1.0
