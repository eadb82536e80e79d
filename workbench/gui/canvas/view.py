"""The canvas view: zoom around the cursor, pan, rubber-band selection, the grid, and drops from
the palette."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from workbench.gui import theme
from workbench.gui.canvas.edge_item import EdgeItem
from workbench.gui.canvas.layout import wrap_layout
from workbench.gui.canvas.node_item import WIDTH
from workbench.gui.canvas.scene import GraphScene

MIME_LAYER = "application/x-workbench-layer"
MIME_BLOCK = "application/x-workbench-block"
MIN_ZOOM, MAX_ZOOM = 0.1, 3.0
FIT_MARGIN = 40.0  # scene units kept free round the drawing when it is fitted to the view


class GraphView(QGraphicsView):
    """Shows a GraphScene; emits where palette items are dropped."""

    zoom_changed = Signal(float)
    layer_dropped = Signal(str, QPointF)  # type id, scene position
    block_dropped = Signal(str, QPointF)  # block name, scene position

    def __init__(self, scene: GraphScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._pan_from: QPoint | None = None
        self._space = False
        self._drop_edge: EdgeItem | None = None
        self.empty_text = ""

    @property
    def graph_scene(self) -> GraphScene:
        scene = self.scene()
        assert isinstance(scene, GraphScene)
        return scene

    # ----- zoom -----------------------------------------------------------------------------

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom to an absolute factor, keeping `anchor` (scene point) under the same pixel."""
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        current = self.zoom()
        if math.isclose(factor, current):
            return
        if anchor is None:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
            self.scale(factor / current, factor / current)
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        else:
            before = self.mapFromScene(anchor)
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
            self.scale(factor / current, factor / current)
            after = self.mapFromScene(anchor)
            delta = after - before
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.zoom_changed.emit(self.zoom())

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / 1.25)

    def reset_zoom(self) -> None:
        self.set_zoom(1.0)

    def fit(self, min_zoom: float = MIN_ZOOM) -> None:
        """Show the whole graph (or the start of it, when fitting would make cards unreadable)."""
        rect = self.graph_scene.nodes_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoom_changed.emit(1.0)
            return
        rect = rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        view = self.viewport().rect()
        factor = min(view.width() / rect.width(), view.height() / rect.height(), 1.0)
        factor = max(factor, min_zoom)
        self.resetTransform()
        self.scale(factor, factor)
        if factor * rect.width() > view.width():  # too wide to fit readably: start at the left
            self.centerOn(rect.left() + view.width() / factor / 2, rect.center().y())
        else:
            self.centerOn(rect.center())
        self.zoom_changed.emit(self.zoom())

    def open_fitted(self, arrange: bool = False, min_zoom: float = MIN_ZOOM) -> None:
        """Show a project just opened: fitted to the view, at 100 % at most.

        With `arrange` (a project that comes from no file of the user's, e.g. a preset), a drawing
        that would need a smaller zoom than its wrapped layout (canvas.layout.wrap_layout) is laid
        out in rows first, when those rows fit at `min_zoom` or more, so that a long chain opens
        whole and readable. That is part of opening,
        like reading the file: no undo step, and the project is not marked modified.
        """
        scene = self.graph_scene
        if scene.session is None:
            return
        if arrange and scene.nodes:
            margin = 2 * FIT_MARGIN
            width, height = self.viewport().width() - margin, self.viewport().height() - margin
            rect = scene.nodes_rect()
            now = min(width / max(rect.width(), 1.0), height / max(rect.height(), 1.0), 1.0)
            card = (WIDTH, max(item.height for item in scene.nodes.values()))
            positions, zoom = wrap_layout(scene.session.graph, width, height, card)
            # Rows that would still need less than `min_zoom` help nobody (a wide branching
            # network): its own layout, shown from the left, reads better then.
            if zoom > now + 0.01 and zoom >= min_zoom:
                graph = scene.session.graph
                for node_id, position in positions.items():
                    graph.move(node_id, position)
        self.fit(min_zoom)

    def center_on_nodes(self, node_ids: list[str]) -> None:
        rect = self.graph_scene.nodes_rect(node_ids)
        if not rect.isNull():
            self.centerOn(rect.center())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().wheelEvent(event)  # shift+wheel scrolls sideways
            return
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if delta:
            anchor = self.mapToScene(event.position().toPoint())
            self.set_zoom(self.zoom() * math.pow(1.0015, delta), anchor)
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802
        if isinstance(event, QNativeGestureEvent) and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
            anchor = self.mapToScene(event.position().toPoint())
            self.set_zoom(self.zoom() * (1 + event.value()), anchor)
            return True
        return super().viewportEvent(event)

    # ----- pan: middle drag, or space + drag -----------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.MiddleButton or (self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            delta = event.position().toPoint() - self._pan_from
            self._pan_from = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # ----- drops from the palette ------------------------------------------------------------

    def _accepts(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> bool:
        mime = event.mimeData()
        return self.graph_scene.session is not None and (mime.hasFormat(MIME_LAYER) or mime.hasFormat(MIME_BLOCK))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._accepts(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if not self._accepts(event):
            event.ignore()
            return
        edge = None
        if event.mimeData().hasFormat(MIME_LAYER):
            edge = self.graph_scene.edge_at(self.mapToScene(event.position().toPoint()))
        if edge is not self._drop_edge:
            if self._drop_edge is not None:
                self._drop_edge.set_drop_target(False)
            if edge is not None:
                edge.set_drop_target(True)
            self._drop_edge = edge
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802, ANN001
        self._clear_drop_edge()
        super().dragLeaveEvent(event)

    def _clear_drop_edge(self) -> None:
        if self._drop_edge is not None:
            self._drop_edge.set_drop_target(False)
            self._drop_edge = None

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self._clear_drop_edge()
        if not self._accepts(event):
            event.ignore()
            return
        pos = self.mapToScene(event.position().toPoint())
        mime = event.mimeData()
        if mime.hasFormat(MIME_LAYER):
            self.layer_dropped.emit(bytes(mime.data(MIME_LAYER).data()).decode(), pos)
        else:
            self.block_dropped.emit(bytes(mime.data(MIME_BLOCK).data()).decode(), pos)
        event.acceptProposedAction()
        self.setFocus()

    # ----- painting --------------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        c = theme.colors()
        painter.fillRect(rect, c.background)
        step = 20.0
        if self.zoom() < 0.45:
            step = 100.0
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        minor, major = [], []
        x = left
        while x < rect.right():
            (major if round(x) % 100 == 0 else minor).append((x, True))
            x += step
        y = top
        while y < rect.bottom():
            (major if round(y) % 100 == 0 else minor).append((y, False))
            y += step
        for lines, color in ((minor, c.grid_minor), (major, c.grid_major)):
            pen = QPen(color, 0)
            painter.setPen(pen)
            for value, vertical in lines:
                if vertical:
                    painter.drawLine(QPointF(value, rect.top()), QPointF(value, rect.bottom()))
                else:
                    painter.drawLine(QPointF(rect.left(), value), QPointF(rect.right(), value))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        if self.graph_scene.nodes or not self.empty_text:
            return
        painter.save()
        painter.resetTransform()
        font = QFont()
        font.setPointSizeF(12)
        painter.setFont(font)
        painter.setPen(theme.colors().text_dim)
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)
        painter.restore()
