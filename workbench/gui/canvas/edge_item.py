"""A tensor on the canvas: a curve from an output port to an input port, labelled with its shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from workbench.gui import theme
from workbench.gui.canvas.layout import RETURN_LANE as RETURN_GAP

if TYPE_CHECKING:
    from workbench.graph.document import Edge
    from workbench.gui.canvas.node_item import NodeItem


RETURN_OUT = 24.0  # how far a returning edge leaves its output port before it turns down
RETURN_RADIUS = 10.0


def curve(start: QPointF, end: QPointF, return_y: float | None = None) -> QPainterPath:
    """A horizontal S-curve, as node editors draw them; loops round when going backwards.

    With `return_y` (above the destination card) an edge that goes back to the left onto a card
    below (the next row of a wrapped layout) runs like a carriage return instead: right, down,
    left along `return_y`, down, and into the input, crossing no card on its way.
    """
    if return_y is not None and end.x() < start.x() - 2 * RETURN_OUT and return_y > start.y() + 2 * RETURN_RADIUS \
            and end.y() > return_y + 2 * RETURN_RADIUS:
        return _return_route(start, end, return_y)
    path = QPainterPath(start)
    dx = max(abs(end.x() - start.x()) * 0.5, 40.0)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


def _return_route(start: QPointF, end: QPointF, y: float) -> QPainterPath:
    r = RETURN_RADIUS
    right, left = start.x() + RETURN_OUT, end.x() - RETURN_OUT
    path = QPainterPath(start)
    path.lineTo(right - r, start.y())
    path.quadTo(right, start.y(), right, start.y() + r)
    path.lineTo(right, y - r)
    path.quadTo(right, y, right - r, y)
    path.lineTo(left + r, y)
    path.quadTo(left, y, left, y + r)
    path.lineTo(left, end.y() - r)
    path.quadTo(left, end.y(), left + r, end.y())
    path.lineTo(end)
    return path


TAG_POINT_SIZE = 9.0  # the shape tags' size at 100 %: a project opens at 100 % when it fits


def _label_font() -> QFont:
    font = QFont()
    font.setPointSizeF(TAG_POINT_SIZE)
    return font


class EdgeLabelItem(QGraphicsItem):
    """The shape tag of an edge; a top-level item so that it stays readable above the cards."""

    def __init__(self, edge: EdgeItem) -> None:
        super().__init__()
        self.edge_item = edge
        self.text = ""
        self.broken = False
        self._rect = QRectF()
        self.setZValue(3)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_text(self, text: str, broken: bool) -> None:
        if (text, broken) != (self.text, self.broken):
            self.prepareGeometryChange()
            self.text, self.broken = text, broken
            metrics = QFontMetricsF(_label_font())
            w = metrics.horizontalAdvance(text) + 8 if text else 0
            h = metrics.height() + 2 if text else 0
            self._rect = QRectF(-w / 2, -h / 2, w, h)
            self.setVisible(bool(text))
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.colors()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        edge = self.edge_item
        color = c.selection if edge.isSelected() else c.error if self.broken else c.edge
        painter.setPen(QPen(color, 1))
        painter.setBrush(c.edge_label_bg)
        painter.drawRoundedRect(self._rect, self._rect.height() / 2, self._rect.height() / 2)
        painter.setFont(_label_font())
        painter.setPen(c.error if self.broken else c.edge_label_text)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class EdgeItem(QGraphicsItem):
    """One edge; it follows its two cards (they call `update_path` when they move)."""

    def __init__(self, edge: Edge, src: NodeItem, dst: NodeItem) -> None:
        super().__init__()
        self.edge = edge
        self.src = src
        self.dst = dst
        self.label_item = EdgeLabelItem(self)
        self._path = QPainterPath()
        self._hover = False
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        src.edges.add(self)
        dst.edges.add(self)
        self.update_path()

    @property
    def label(self) -> str:
        return self.label_item.text

    def detach(self) -> None:
        self.src.edges.discard(self)
        self.dst.edges.discard(self)

    def set_label(self, text: str, broken: bool = False) -> None:
        self.label_item.set_text(text, broken)

    def update_path(self) -> None:
        self.prepareGeometryChange()
        self._path = curve(self.src.output_pos(), self.dst.input_pos(self.edge.dst_port),
                           return_y=self.dst.scenePos().y() - RETURN_GAP / 2)
        # A tag on the wire, half way (it is narrower than the gap between two adjacent cards).
        self.label_item.setPos(self._path.pointAtPercent(0.5))

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._path.boundingRect().adjusted(-4, -4, 4, 4)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self._path)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.colors()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = c.selection if self.isSelected() else c.error if self.label_item.broken else c.accent if self._hover else c.edge
        painter.setPen(QPen(color, 2.4 if self.isSelected() or self._hover else 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):  # noqa: N802, ANN001, ANN201
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.label_item.update()
        return super().itemChange(change, value)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802, ANN001
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802, ANN001
        self._hover = False
        self.update()

    def set_drop_target(self, on: bool) -> None:
        """Highlighted while a palette item hovers over it (a drop inserts the layer here)."""
        if on != self._hover:
            self._hover = on
            self.update()
