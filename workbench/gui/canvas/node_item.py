"""A layer on the canvas: a card with its type, name, key params, output shape and size, and ports.

A frozen layer (its weights stay fixed in training) shows a snowflake in its header, a muted
header band and dimmed text; a learning-rate factor other than 1 is shown as `lr ×F`.

The card draws what it is told (`update_from`, `set_analysis`, `set_param_count`); it never
changes the document. Moving it is handled by the scene, which turns drags into commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from workbench.gui import theme
from workbench.gui.labels import count_label

if TYPE_CHECKING:
    from workbench.graph.document import Node
    from workbench.gui.canvas.edge_item import EdgeItem

WIDTH = 140.0
HEADER = 22.0
LINE = 16.0
PAD = 7.0
PORT_RADIUS = 5.0
PORT_SPACING = 18.0
MIN_HEIGHT = HEADER + PAD + 3 * LINE + PAD - 2


_FONTS: tuple[QFont, QFont, QFont] | None = None


def _fonts() -> tuple[QFont, QFont, QFont]:
    """Header, name and body fonts (made once, after the QApplication exists)."""
    global _FONTS
    if _FONTS is None:
        header = QFont()
        header.setPointSizeF(8.5)
        header.setBold(True)
        name = QFont()
        name.setPointSizeF(9.5)
        name.setBold(True)
        body = QFont()
        body.setPointSizeF(8.5)
        _FONTS = (header, name, body)
    return _FONTS


_LABEL_FONT: QFont | None = None
LABEL_HEIGHT = 11.0


def _label_font() -> QFont:
    """The small font of port names (made once, after the QApplication exists)."""
    global _LABEL_FONT
    if _LABEL_FONT is None:
        _LABEL_FONT = QFont()
        _LABEL_FONT.setPointSizeF(7.0)
    return _LABEL_FONT


class PortItem(QGraphicsItem):
    """An input or output port: where edges attach and where connection drags start."""

    def __init__(self, node: NodeItem, name: str, is_output: bool, label: str = "") -> None:
        super().__init__(node)
        self.node = node
        self.name = name
        self.is_output = is_output
        # Drawn left of the card above the incoming edge, for ports that mean different things
        # ("queries", "memory"); a port of a one-input layer or a merge needs no name.
        self.label = label
        self.highlight: str = ""  # "" | "ok" | "bad"
        self._hover = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        self.setToolTip(QCoreApplication.translate("Canvas", "output") if is_output else name)

    def _hit_rect(self) -> QRectF:
        r = PORT_RADIUS + 4  # generous hit area
        return QRectF(-r, -r, 2 * r, 2 * r)

    def label_rect(self) -> QRectF:
        """Where the port's name is drawn: left of the port, just above the edge that enters it."""
        width = QFontMetricsF(_label_font()).horizontalAdvance(self.label) + 2
        return QRectF(-PORT_RADIUS - 4 - width, -LABEL_HEIGHT - 1, width, LABEL_HEIGHT)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._hit_rect().united(self.label_rect()) if self.label else self._hit_rect()

    def shape(self) -> QPainterPath:
        path = QPainterPath()  # only the port itself starts a connection, not its name
        path.addEllipse(self._hit_rect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.colors()
        if self.label:
            painter.setFont(_label_font())
            painter.setPen(c.text_dim)
            painter.drawText(self.label_rect(), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, self.label)
        color = {"ok": c.accent, "bad": c.error}.get(self.highlight, c.port_hover if self._hover else c.port)
        r = PORT_RADIUS + (1.5 if self._hover or self.highlight else 0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(c.card, 1.5))
        painter.setBrush(color)
        painter.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802, ANN001
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802, ANN001
        self._hover = False
        self.update()

    def set_highlight(self, state: str) -> None:
        if state != self.highlight:
            self.highlight = state
            self.update()


class NodeItem(QGraphicsObject):
    """The card of one node."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node_id = node.id
        self.edges: set[EdgeItem] = set()
        self.type_text = ""
        self.name_text = ""
        self.summary_text = ""
        self.category = ""
        self.shape_text = ""
        self.params_text = ""
        self.problems: list[str] = []
        self.severity = ""  # "" | "warning" | "error"
        self.frozen = False  # the node's weights do not train
        self.lr_scale = 1.0
        self.inputs: dict[str, PortItem] = {}
        self.output: PortItem | None = None
        self._height = MIN_HEIGHT
        self.syncing = False  # set while the scene copies the document's position in
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.update_from(node)
        self.set_position(node.position)

    # ----- content -------------------------------------------------------------------------

    def update_from(self, node: Node) -> None:
        """Copy what the card shows from the document node (type, name, params, ports)."""
        spec = node.spec
        self.type_text = node.type
        self.name_text = node.name
        self.frozen = not node.trainable
        self.lr_scale = node.lr_scale
        self.category = spec.category
        try:
            self.summary_text = spec.summary(node.params)
        except Exception:  # a summary must never break drawing
            self.summary_text = ""
        ports = node.input_ports()
        has_output = node.type != "Output"
        if tuple(self.inputs) != ports or (self.output is not None) != has_output:
            self._rebuild_ports(ports, has_output, spec.named_ports)
        self.prepareGeometryChange()
        self._height = max(MIN_HEIGHT, HEADER + PAD + len(ports) * PORT_SPACING)
        self._place_ports()
        self._update_tooltip()
        self.update()

    def _rebuild_ports(self, ports: tuple[str, ...], has_output: bool, named: bool) -> None:
        scene = self.scene()
        for port in list(self.inputs.values()) + ([self.output] if self.output else []):
            if scene is not None:
                scene.removeItem(port)
            port.setParentItem(None)
        self.inputs = {p: PortItem(self, p, False, p if named else "") for p in ports}
        self.output = PortItem(self, "out", True) if has_output else None

    def _place_ports(self) -> None:
        n = len(self.inputs)
        body_top = HEADER
        body_h = self._height - HEADER
        for i, port in enumerate(self.inputs.values()):
            y = body_top + body_h / 2 + (i - (n - 1) / 2) * PORT_SPACING
            port.setPos(0, y)
        if self.output is not None:
            self.output.setPos(WIDTH, HEADER + body_h / 2)

    def set_analysis(self, shape: str, problems: list[str], severity: str) -> bool:
        """Show the inferred output shape and any problems; True when something changed."""
        if (shape, problems, severity) == (self.shape_text, self.problems, self.severity):
            return False
        self.shape_text, self.problems, self.severity = shape, problems, severity
        self._update_tooltip()
        self.update()
        return True

    def set_param_count(self, count: int | None) -> None:
        text = "" if count is None else QCoreApplication.translate("Canvas", "%1 params").replace("%1", count_label(count))
        if text != self.params_text:
            self.params_text = text
            self._update_tooltip()
            self.update()

    def _update_tooltip(self) -> None:
        lines = [f"<b>{self.type_text}</b> '{self.name_text}'"]
        if self.summary_text:
            lines.append(self.summary_text)
        if self.shape_text:
            lines.append(QCoreApplication.translate("Canvas", "Output: %1").replace("%1", self.shape_text))
        if self.params_text:
            lines.append(self.params_text)
        if self.frozen:
            lines.append(QCoreApplication.translate("Canvas", "Frozen: its weights do not change in training"))
        if self.lr_scale != 1.0:
            lines.append(QCoreApplication.translate("Canvas", "Learning rate × %1").replace("%1", f"{self.lr_scale:g}"))
        color = theme.colors().error.name() if self.severity == "error" else theme.colors().warning.name()
        lines += [f"<span style='color:{color}'>⚠ {_escape(p)}</span>" for p in self.problems]
        self.setToolTip("<br>".join(lines))

    # ----- geometry ------------------------------------------------------------------------

    @property
    def height(self) -> float:
        return self._height

    def set_position(self, position: tuple[float, float]) -> None:
        if (self.pos().x(), self.pos().y()) != position:
            self.syncing = True
            self.setPos(position[0], position[1])
            self.syncing = False

    def input_pos(self, port: str) -> QPointF:
        item = self.inputs.get(port)
        return item.scenePos() if item is not None else self.mapToScene(QPointF(0, self._height / 2))

    def output_pos(self) -> QPointF:
        return self.output.scenePos() if self.output is not None else self.mapToScene(QPointF(WIDTH, self._height / 2))

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-3, -3, WIDTH + 6, self._height + 6)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, WIDTH, self._height), 6, 6)
        return path

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):  # noqa: N802, ANN001, ANN201
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and not self.syncing:
            scene = self.scene()
            grid = getattr(scene, "snap_grid", 0) if scene is not None else 0
            if grid:
                return QPointF(round(value.x() / grid) * grid, round(value.y() / grid) * grid)
        elif change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(1.5 if value else 1)
        return super().itemChange(change, value)

    # ----- drawing -------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.colors()
        header_font, name_font, body_font = _fonts()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        rect = QRectF(0, 0, WIDTH, self._height)
        accent = theme.category_color(self.category)
        if self.frozen:  # muted: the layer is part of the picture but not of the training
            accent = QColor.fromHslF(accent.hslHueF(), accent.hslSaturationF() * 0.35, 0.55)

        # Card and header band
        body = QPainterPath()
        body.addRoundedRect(rect, 6, 6)
        painter.fillPath(body, c.card)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, WIDTH, HEADER + 6), 6, 6)
        header = header.intersected(_rect_path(QRectF(0, 0, WIDTH, HEADER)))
        painter.fillPath(header, accent)

        # Outline: selection > error > warning > plain
        if self.isSelected():
            pen = QPen(c.selection, 2.5)
        elif self.severity == "error":
            pen = QPen(c.error, 2.2)
        elif self.severity == "warning":
            pen = QPen(c.warning, 1.8)
        else:
            pen = QPen(c.card_border, 1)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 6, 6)
        if self.isSelected() and self.severity == "error":
            painter.setPen(QPen(c.error, 1.2, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(rect.adjusted(-3, -3, 3, 3), 8, 8)

        # Header: type, and a problem badge on the right
        badge = 0.0
        if self.severity:
            badge = 18.0
            color = c.error if self.severity == "error" else c.warning
            center = QPointF(WIDTH - 12, HEADER / 2)
            painter.setPen(QPen(QColor("#ffffff"), 1.2))
            painter.setBrush(color)
            painter.drawEllipse(center, 7, 7)
            painter.setFont(header_font)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(QRectF(center.x() - 7, center.y() - 7, 14, 14), Qt.AlignmentFlag.AlignCenter, "!")
        if self.frozen:
            center = QPointF(WIDTH - 12 - badge, HEADER / 2)
            _snowflake(painter, center, 6.0)
            badge += 16.0
        painter.setFont(header_font)
        painter.setPen(QColor("#ffffff"))
        text_rect = QRectF(PAD + 2, 0, WIDTH - 2 * PAD - badge, HEADER)
        if self.params_text:
            small = QFont(header_font)
            small.setBold(False)
            small.setPointSizeF(7.5)
            params = self.params_text
            type_w = QFontMetricsF(header_font).horizontalAdvance(self.type_text)
            if type_w + QFontMetricsF(small).horizontalAdvance(params) + 6 > text_rect.width():
                params = params.split(" ")[0]  # "9.22k params" -> "9.22k": the type name matters more
            if type_w + QFontMetricsF(small).horizontalAdvance(params) + 6 > text_rect.width():
                params = ""  # still too long: the count stays in the tooltip and the summary
            params_w = QFontMetricsF(small).horizontalAdvance(params) if params else -6
            painter.setFont(small)
            if self.frozen:  # the weights are there but do not train
                painter.setPen(QColor(255, 255, 255, 140))
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, params)
            painter.setPen(QColor("#ffffff"))
            text_rect.setWidth(max(text_rect.width() - params_w - 6, 20))
            painter.setFont(header_font)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         _elide(self.type_text, header_font, text_rect.width()))

        # Body: name, key params, output shape + params
        x = PAD + 4
        w = WIDTH - 2 * PAD - 4
        y = HEADER + PAD - 2
        painter.setFont(name_font)
        painter.setPen(c.text)
        painter.drawText(QRectF(x, y, w, LINE), Qt.AlignmentFlag.AlignVCenter, _elide(self.name_text, name_font, w))
        y += LINE
        painter.setFont(body_font)
        painter.setPen(c.text_dim)
        summary = self.summary_text
        if self.lr_scale != 1.0:
            summary = f"lr ×{self.lr_scale:g}  {summary}".rstrip()
        painter.drawText(QRectF(x, y, w, LINE), Qt.AlignmentFlag.AlignVCenter, _elide(summary, body_font, w))
        y = self._height - PAD - LINE + 1
        painter.setFont(body_font)
        if self.shape_text:
            painter.setPen(c.text)
            shape = "→ " + self.shape_text
        else:
            painter.setPen(c.error if self.severity == "error" else c.text_dim)
            shape = "→ ?"
        painter.drawText(QRectF(x, y, w, LINE), Qt.AlignmentFlag.AlignVCenter, _elide(shape, body_font, w))


def _snowflake(painter: QPainter, center: QPointF, radius: float) -> None:
    """Six spokes with small barbs, drawn with lines so that no font needs the glyph."""
    import math

    painter.save()
    painter.setPen(QPen(QColor("#ffffff"), 1.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for i in range(6):
        a = math.pi / 3 * i
        tip = QPointF(center.x() + radius * math.cos(a), center.y() + radius * math.sin(a))
        painter.drawLine(center, tip)
        mid = QPointF(center.x() + 0.6 * radius * math.cos(a), center.y() + 0.6 * radius * math.sin(a))
        for side in (-1, 1):
            b = a + side * math.pi / 4
            painter.drawLine(mid, QPointF(mid.x() + 0.35 * radius * math.cos(b), mid.y() + 0.35 * radius * math.sin(b)))
    painter.restore()


def _rect_path(rect: QRectF) -> QPainterPath:
    path = QPainterPath()
    path.addRect(rect)
    return path


def _elide(text: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

