"""The canvas scene: one card per node, one curve per edge, kept in step with the document.

The scene follows the document's events and changes only the items concerned (adding a layer to
a 200-node graph touches one card). User gestures become commands pushed through the session:
dragging cards (merged into one undo step per drag), dragging from a port to connect (refusals
are shown next to the mouse with the document's own reason), dropping a layer on an edge.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from workbench.graph.document import Edge, EventKind, GraphEvent
from workbench.gui import theme
from workbench.gui.canvas.edge_item import EdgeItem, EdgeLabelItem, curve
from workbench.gui.canvas.layout import make_room
from workbench.gui.canvas.node_item import HEADER, MIN_HEIGHT, PAD, PORT_SPACING, WIDTH, NodeItem, PortItem
from workbench.gui.commands import (
    AddNodesCommand,
    ConnectCommand,
    DisconnectCommand,
    InsertOnEdgeCommand,
    MacroCommand,
    MoveNodesCommand,
)
from workbench.gui.fragments import NodeRecord
from workbench.gui.session import EditorSession

GRID = 20
HINT_MS = 3000


class HintItem(QGraphicsItem):
    """A speech bubble next to the mouse: why a connection is refused (or what a drop will do)."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.error = True
        self._rect = QRectF()
        self.setZValue(100)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.hide()

    def show_text(self, text: str, at: QPointF, error: bool = True) -> None:
        self.prepareGeometryChange()
        self.text, self.error = text, error
        metrics = QFontMetricsF(QFont())
        width = min(metrics.horizontalAdvance(text), 420.0)
        flags = int(Qt.TextFlag.TextWordWrap)
        bounds = metrics.boundingRect(QRectF(0, 0, width, 1000), flags, text)
        self._rect = QRectF(0, 0, bounds.width() + 16, bounds.height() + 10)
        self.setPos(at)
        self.show()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(14, 14, 18, 18)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.colors()
        rect = self._rect.translated(16, 16)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = c.error if self.error else c.accent
        painter.setPen(QPen(border, 1.5))
        painter.setBrush(c.card)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(c.error if self.error else c.text)
        painter.setFont(QFont())
        painter.drawText(rect.adjusted(8, 5, -8, -5), int(Qt.TextFlag.TextWordWrap), self.text)


@dataclass
class _ConnectionDrag:
    """A connection being drawn: from an output (src set) or back from an input (dst set)."""

    src: str | None
    dst: str | None
    port: str | None
    detached: Edge | None  # an existing edge picked up from its input port
    line: QGraphicsPathItem
    target: tuple[str, str | None] | None = None  # (node id, port) the mouse is over
    reason: str | None = None


class GraphScene(QGraphicsScene):
    """Cards and curves for the session's graph."""

    connection_refused = Signal(str)
    node_activated = Signal(str)  # double-click on a card

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.session: EditorSession | None = None
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.snap_grid = GRID
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._drag_start: dict[str, tuple[float, float]] | None = None
        self._gesture = 0
        self._conn: _ConnectionDrag | None = None
        self._highlighted_port: PortItem | None = None
        self.hint = HintItem()
        self.addItem(self.hint)
        self._hint_timer = QTimer(self)
        self._hint_timer.setSingleShot(True)
        self._hint_timer.timeout.connect(self.hint.hide)
        self.setSceneRect(QRectF(-5000, -5000, 10000, 10000))

    # ----- session ------------------------------------------------------------------------

    def set_session(self, session: EditorSession | None) -> None:
        if self.session is not None:
            self.session.graph_changed.disconnect(self._on_graph_event)
            self.session.analysis_changed.disconnect(self.apply_analysis)
            self.session.summary_changed.disconnect(self.apply_summary)
        self.session = session
        self._rebuild()
        if session is not None:
            session.graph_changed.connect(self._on_graph_event)
            session.analysis_changed.connect(self.apply_analysis)
            session.summary_changed.connect(self.apply_summary)
            self.apply_analysis()
            self.apply_summary()

    def _rebuild(self) -> None:
        for item in list(self.edges.values()):
            self._remove_edge_item(item)
        for item in list(self.nodes.values()):
            self.removeItem(item)
        self.nodes.clear()
        self.edges.clear()
        if self.session is None:
            return
        for node in self.session.graph.nodes:
            self._add_node_item(node.id)
        for edge in self.session.graph.edges:
            self._add_edge_item(edge)

    def _add_node_item(self, node_id: str) -> None:
        assert self.session is not None
        item = NodeItem(self.session.graph.node(node_id))
        self.addItem(item)
        self.nodes[node_id] = item

    def _add_edge_item(self, edge: Edge) -> None:
        item = EdgeItem(edge, self.nodes[edge.src], self.nodes[edge.dst])
        self.addItem(item)
        self.addItem(item.label_item)
        self.edges[edge] = item

    def _remove_edge_item(self, item: EdgeItem) -> None:
        item.detach()
        self.removeItem(item.label_item)
        self.removeItem(item)

    def _on_graph_event(self, event: GraphEvent) -> None:
        assert self.session is not None
        graph = self.session.graph
        kind = event.kind
        if kind is EventKind.NODE_ADDED and event.node_id:
            self._add_node_item(event.node_id)
        elif kind is EventKind.NODE_REMOVED and event.node_id in self.nodes:
            item = self.nodes.pop(event.node_id)
            for edge_item in list(item.edges):  # the document removed them first; be safe
                self.edges.pop(edge_item.edge, None)
                self._remove_edge_item(edge_item)
            self.removeItem(item)
        elif kind is EventKind.EDGE_ADDED and event.edge is not None:
            self._add_edge_item(event.edge)
        elif kind is EventKind.EDGE_REMOVED and event.edge in self.edges:
            self._remove_edge_item(self.edges.pop(event.edge))
        elif kind in (EventKind.PARAMS_CHANGED, EventKind.NODE_RENAMED, EventKind.TRAINING_CHANGED) \
                and event.node_id in self.nodes:
            item = self.nodes[event.node_id]
            item.update_from(graph.node(event.node_id))
            for edge_item in item.edges:
                edge_item.update_path()
        elif kind is EventKind.NODE_MOVED and event.node_id in self.nodes:
            self.nodes[event.node_id].set_position(graph.node(event.node_id).position)
        elif kind is EventKind.RESET:
            self._rebuild()

    def apply_analysis(self) -> None:
        """Show shapes on edges and cards, and problems on cards (only items that change)."""
        if self.session is None:
            return
        analysis = self.session.analysis
        by_node: dict[str, list] = {}
        for p in analysis.problems:
            if p.node_id is not None:
                by_node.setdefault(p.node_id, []).append(p)
        for nid, item in self.nodes.items():
            problems = by_node.get(nid, [])
            severity = "error" if any(p.severity == "error" for p in problems) else "warning" if problems else ""
            shape = analysis.shapes.get(nid)
            item.set_analysis(str(shape) if shape is not None else "", [p.message for p in problems], severity)
        for edge, item in self.edges.items():
            shape = analysis.shapes.get(edge.src)
            dst_error = self.nodes[edge.dst].severity == "error" and edge.dst not in analysis.shapes
            item.set_label(str(shape) if shape is not None else "", broken=dst_error and shape is not None)

    def apply_summary(self) -> None:
        if self.session is None:
            return
        summary = self.session.summary
        counts = {row.node_id: row.params for row in summary.rows} if summary is not None else {}
        for nid, item in self.nodes.items():
            count = counts.get(nid)
            item.set_param_count(count if count else None)

    def refresh_texts(self) -> None:
        """Language changed: redraw the words the cards own."""
        self.apply_summary()
        for item in self.nodes.values():
            item.update()

    # ----- selection ------------------------------------------------------------------------

    def selected_node_ids(self) -> list[str]:
        """Selected nodes, in document order."""
        if self.session is None:
            return []
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n.id for n in self.session.graph.nodes if n.id in chosen]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids: list[str] | set[str]) -> None:
        self.blockSignals(True)
        self.clearSelection()
        for nid in node_ids:
            if nid in self.nodes:
                self.nodes[nid].setSelected(True)
        self.blockSignals(False)
        self.selectionChanged.emit()

    def nodes_rect(self, node_ids: list[str] | None = None) -> QRectF:
        items = [self.nodes[n] for n in node_ids if n in self.nodes] if node_ids else list(self.nodes.values())
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        for item in self.edges.values():
            if node_ids is None and item.label_item.isVisible():
                rect = rect.united(item.label_item.sceneBoundingRect())
        return rect

    # ----- adding layers ---------------------------------------------------------------------

    def card_position(self, center: QPointF) -> tuple[float, float]:
        """Top-left of a new card centred on `center` (on the grid when snapping)."""
        x, y = center.x() - WIDTH / 2, center.y() - MIN_HEIGHT / 2
        if self.snap_grid:
            x, y = round(x / self.snap_grid) * self.snap_grid, round(y / self.snap_grid) * self.snap_grid
        return float(x), float(y)

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        for item in self.items(pos, Qt.ItemSelectionMode.IntersectsItemShape, Qt.SortOrder.DescendingOrder, QTransform()):
            if isinstance(item, NodeItem | PortItem):
                return None
            if isinstance(item, EdgeItem):
                return item
            if isinstance(item, EdgeLabelItem):
                return item.edge_item
        return None

    def add_layer(self, type_id: str, center: QPointF) -> str | None:
        """Add a layer centred at `center`; dropped on an edge, it is inserted into that edge."""
        if self.session is None:
            return None
        graph = self.session.graph
        trial = graph.copy().add_node(type_id)  # the document's own id and naming rules
        spec = trial.spec
        record = NodeRecord(trial.id, spec.type_id, trial.name, spec.defaults(), self.card_position(center))
        edge_item = self.edge_at(center)
        if edge_item is not None and not spec.is_source:
            edge = edge_item.edge
            rects = {nid: (item.pos().x(), item.pos().y(), WIDTH, item.height) for nid, item in self.nodes.items()}
            height = max(MIN_HEIGHT, HEADER + PAD + len(trial.input_ports()) * PORT_SPACING)
            position, moves = make_room(graph, rects, edge.src, edge.dst, (*record.position, WIDTH, height),
                                        grid=self.snap_grid)
            command = InsertOnEdgeCommand(graph, dataclasses.replace(record, position=position), edge, moves)
            if self.session.push(command):
                self.select_nodes([record.id])
                return record.id
            # Not insertable (e.g. a merge would leave an input open): add it beside instead.
        if self.session.push(AddNodesCommand(graph, [record])):
            self.select_nodes([record.id])
            return record.id
        return None

    # ----- mouse: moving cards and drawing connections --------------------------------------

    def _port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos, Qt.ItemSelectionMode.IntersectsItemBoundingRect, Qt.SortOrder.DescendingOrder, QTransform()):
            if isinstance(item, PortItem):
                return item
        return None

    def _node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos, Qt.ItemSelectionMode.IntersectsItemShape, Qt.SortOrder.DescendingOrder, QTransform()):
            if isinstance(item, NodeItem):
                return item
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.session is not None and event.button() == Qt.MouseButton.LeftButton:
            port = self._port_at(event.scenePos())
            if port is not None:
                self._begin_connection(port, event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self._node_at(event.scenePos()) is not None:
            self._gesture += 1
            self._drag_start = {
                nid: (self.nodes[nid].pos().x(), self.nodes[nid].pos().y()) for nid in self.selected_node_ids()
            }

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._conn is not None:
            self._update_connection(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._drag_start and self.session is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._push_move()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._conn is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_connection(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self._drag_start and self.session is not None:
            self._push_move()
        self._drag_start = None

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        node = self._node_at(event.scenePos())
        if node is not None:
            self.node_activated.emit(node.node_id)
        super().mouseDoubleClickEvent(event)

    def _push_move(self) -> None:
        assert self.session is not None and self._drag_start is not None
        graph = self.session.graph
        new = {}
        for nid in self._drag_start:
            if nid in self.nodes and graph.has_node(nid):
                pos = self.nodes[nid].pos()
                if graph.node(nid).position != (pos.x(), pos.y()):
                    new[nid] = (pos.x(), pos.y())
        if new:
            old = {nid: self._drag_start[nid] for nid in new}
            self.session.push(MoveNodesCommand(graph, old, new, gesture=self._gesture))

    def move_nodes(self, positions: dict[str, tuple[float, float]], text: str | None = None) -> None:
        """Move several nodes as one undo step (auto-layout, align)."""
        if self.session is None:
            return
        graph = self.session.graph
        new = {nid: p for nid, p in positions.items() if graph.has_node(nid) and graph.node(nid).position != p}
        if new:
            old = {nid: graph.node(nid).position for nid in new}
            self.session.push(MoveNodesCommand(graph, old, new, text=text))

    def _begin_connection(self, port: PortItem, at: QPointF) -> None:
        assert self.session is not None
        graph = self.session.graph
        line = QGraphicsPathItem()
        line.setPen(QPen(theme.colors().accent, 2, Qt.PenStyle.DashLine))
        line.setZValue(0.5)  # above the edges, under the cards: it never hides a card's text
        self.addItem(line)
        node_id = port.node.node_id
        if port.is_output:
            self._conn = _ConnectionDrag(node_id, None, None, None, line)
        else:
            edge = graph.edge_into(node_id, port.name)
            if edge is not None:  # pick up the edge from its input and carry it elsewhere
                self._conn = _ConnectionDrag(edge.src, None, None, edge, line)
                self.edges[edge].hide()
                self.edges[edge].label_item.hide()
            else:
                self._conn = _ConnectionDrag(None, node_id, port.name, None, line)
        self._update_connection(at)

    def _update_connection(self, at: QPointF) -> None:
        conn = self._conn
        assert conn is not None and self.session is not None
        graph = self.session.graph
        target: tuple[str, str | None] | None = None
        reason: str | None = None
        port = self._port_at(at)
        if conn.src is not None:  # looking for an input
            if port is not None and not port.is_output:
                target = (port.node.node_id, port.name)
            else:
                node = self._node_at(at)
                if node is not None and node.node_id != conn.src:
                    target = (node.node_id, None)
            if target is not None:
                if conn.detached is not None and target == (conn.detached.dst, conn.detached.dst_port):
                    reason = None
                else:
                    reason = graph.can_connect(conn.src, target[0], target[1])
            start = self.nodes[conn.src].output_pos()
            end = at
            if target is not None and target[1] is not None:
                end = self.nodes[target[0]].input_pos(target[1])
            conn.line.setPath(curve(start, end))
        else:  # from an empty input, looking for an output
            if port is not None and port.is_output:
                target = (port.node.node_id, "out")
            else:
                node = self._node_at(at)
                if node is not None and node.node_id != conn.dst and node.output is not None:
                    target = (node.node_id, "out")
            if target is not None:
                reason = graph.can_connect(target[0], conn.dst or "", conn.port)
            start = self.nodes[target[0]].output_pos() if target is not None else at
            conn.line.setPath(curve(start, self.nodes[conn.dst or ""].input_pos(conn.port or "")))
        conn.target, conn.reason = target, reason
        self._highlight(port, "bad" if reason else "ok" if target else "")
        if target is not None and reason:
            self.hint.show_text(reason, self._hint_anchor(at, target[0]), error=True)
            self._hint_timer.stop()
        else:
            self.hint.hide()

    def _hint_anchor(self, at: QPointF, node_id: str) -> QPointF:
        """Where the refusal bubble goes: by the mouse, but under the card it would cover."""
        card = self.nodes.get(node_id)
        if card is None:
            return at
        return QPointF(at.x() - 16, max(at.y(), card.sceneBoundingRect().bottom()) - 8)

    def _highlight(self, port: PortItem | None, state: str) -> None:
        if self._highlighted_port is not None and self._highlighted_port is not port:
            self._highlighted_port.set_highlight("")
        self._highlighted_port = port
        if port is not None:
            port.set_highlight(state)

    def _finish_connection(self, at: QPointF) -> None:
        conn = self._conn
        assert conn is not None and self.session is not None
        self._update_connection(at)
        self._conn = None
        self.removeItem(conn.line)
        self._highlight(None, "")
        graph = self.session.graph
        if conn.detached is not None and conn.detached in self.edges:
            self.edges[conn.detached].show()
            self.edges[conn.detached].label_item.setVisible(bool(self.edges[conn.detached].label))
        if conn.target is None:
            if conn.detached is not None:  # dropped in empty space: the edge is removed
                self.session.push(DisconnectCommand(graph, conn.detached))
            return
        if conn.reason:
            self.hint.show_text(conn.reason, self._hint_anchor(at, conn.target[0]), error=True)
            self._hint_timer.start(HINT_MS)
            self.connection_refused.emit(conn.reason)
            return
        if conn.src is not None:
            dst, port = conn.target
            if conn.detached is not None:
                if (dst, port) == (conn.detached.dst, conn.detached.dst_port):
                    return
                macro = MacroCommand(graph, QCoreApplication.translate("Commands", "Reconnect %1").replace("%1", graph.node(conn.src).name), [
                    DisconnectCommand(graph, conn.detached),
                    ConnectCommand(graph, conn.src, dst, port),
                ])
                self.session.push(macro)
            else:
                self.session.push(ConnectCommand(graph, conn.src, dst, port))
        else:
            self.session.push(ConnectCommand(graph, conn.target[0], conn.dst or "", conn.port))

    def show_hint(self, text: str, at: QPointF, error: bool = True) -> None:
        self.hint.show_text(text, at, error)
        self._hint_timer.start(HINT_MS)

