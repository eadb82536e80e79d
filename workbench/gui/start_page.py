"""The start page: New, Open, recent files, and a gallery of presets that open in one click."""

from __future__ import annotations

import dataclasses
import html
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workbench.graph.document import Graph
from workbench.gui import theme
from workbench.gui.labels import count_label, task_label
from workbench.i18n import _ as core_text

CARD_WIDTH = 300
CARD_HEIGHT = 208


@dataclass(frozen=True)
class PresetEntry:
    """What one gallery card shows."""

    name: str
    title: str
    task: str
    dataset: str
    description: str
    parameters: int | None  # None until counted: counting builds the network (torch), after the first paint
    graph: Graph


class GraphThumbnail(QWidget):
    """A small drawing of a graph: coloured blocks at the nodes' positions, lines for edges."""

    def __init__(self, graph: Graph, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.setMinimumHeight(84)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(CARD_WIDTH - 24, 84)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        nodes = self.graph.nodes
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = theme.colors()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c.background)
        p.drawRoundedRect(QRectF(self.rect()), 6, 6)
        if not nodes:
            return
        box_w, box_h = 150.0, 80.0
        xs = [n.position[0] for n in nodes]
        ys = [n.position[1] for n in nodes]
        left, top = min(xs), min(ys)
        width, height = max(xs) - left + box_w, max(ys) - top + box_h
        area = QRectF(self.rect()).adjusted(10, 10, -10, -10)
        scale = min(area.width() / width, area.height() / height)
        ox = area.left() + (area.width() - width * scale) / 2
        oy = area.top() + (area.height() - height * scale) / 2

        def box(nid: str) -> QRectF:
            n = self.graph.node(nid)
            return QRectF(ox + (n.position[0] - left) * scale, oy + (n.position[1] - top) * scale, box_w * scale, box_h * scale)

        p.setPen(QPen(c.edge, 1.2))
        for e in self.graph.edges:
            a, b = box(e.src), box(e.dst)
            p.drawLine(QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y()))
        p.setPen(Qt.PenStyle.NoPen)
        for n in nodes:
            p.setBrush(theme.category_color(n.spec.category))
            r = box(n.id)
            p.drawRoundedRect(r, min(3.0, r.height() / 4), min(3.0, r.height() / 4))


class PresetCard(QFrame):
    """One preset: picture, name, task, size, description. A click opens it."""

    clicked = Signal(str)

    def __init__(self, entry: PresetEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setObjectName("PresetCard")
        self.setFixedSize(CARD_WIDTH, CARD_HEIGHT)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.thumb = GraphThumbnail(entry.graph)
        self.title = QLabel(entry.title)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.meta = QLabel()
        self.description = QLabel(entry.description)
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.description.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 10)
        layout.setSpacing(4)
        layout.addWidget(self.thumb)
        layout.addSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.meta)
        layout.addWidget(self.description, 1)
        for child in (self.thumb, self.title, self.meta, self.description):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.retranslate()
        self._style(False)

    def retranslate(self) -> None:
        e = self.entry
        self.meta.setText(
            self.tr("%1 · %2 data · %3 params")
            .replace("%1", task_label(e.task)).replace("%2", e.dataset).replace("%3", count_label(e.parameters) if e.parameters is not None else "…")
        )
        self.setToolTip(self.tr("Open the preset “%1”").replace("%1", core_text(e.title)))
        self.title.setText(core_text(e.title))
        self.description.setText(core_text(e.description))  # the preset's words, from the core's catalog
        self.meta.setStyleSheet(f"color: {theme.colors().text_dim.name()};")

    def _style(self, hover: bool) -> None:
        c = theme.colors()
        border = c.accent if hover or self.hasFocus() else c.card_border
        self.setStyleSheet(
            f"#PresetCard {{ background: {c.card.name()}; border: {2 if hover else 1}px solid {border.name()};"
            f" border-radius: 8px; }}"
        )

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.HoverEnter, QEvent.Type.FocusIn):
            self._style(True)
        elif event.type() in (QEvent.Type.HoverLeave, QEvent.Type.FocusOut):
            self._style(False)
        elif event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return super().event(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit(self.entry.name)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit(self.entry.name)
            return
        super().keyPressEvent(event)


class StartPage(QWidget):
    """Shown when no project is open."""

    preset_chosen = Signal(str)
    new_requested = Signal()
    open_requested = Signal()
    recent_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards: list[PresetCard] = []
        self._recent: list[str] = []

        self.heading = QLabel("Workbench")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        self.heading.setFont(font)
        self.tagline = QLabel()
        self.new_button = QPushButton()
        self.open_button = QPushButton()
        for button in (self.new_button, self.open_button):
            button.setMinimumHeight(34)
            button.setMinimumWidth(150)
        self.new_button.setDefault(True)
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)

        self.presets_heading = QLabel()
        self.recent_heading = QLabel()
        for label in (self.presets_heading, self.recent_heading):
            f = QFont(self.font())
            f.setPointSizeF(f.pointSizeF() * 1.25)
            f.setBold(True)
            label.setFont(f)
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(2)
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.loading = QLabel()

        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        # Where Save As starts and where an unsaved project's runs go (Preferences change it).
        self.folder_label = QLabel()
        self.folder_label.setTextFormat(Qt.TextFormat.RichText)
        self.folder_label.linkActivated.connect(self._open_folder)
        self._folder: Path | None = None

        left = QVBoxLayout()
        left.setSpacing(6)  # nested layouts would inherit the row's 40 px
        left.addWidget(self.heading)
        left.addWidget(self.tagline)
        left.addSpacing(18)
        left.addLayout(buttons)
        left.addSpacing(4)
        left.addWidget(self.folder_label)
        left.addSpacing(18)
        left.addWidget(self.presets_heading)
        left.addWidget(self.loading)
        left.addLayout(self.grid)
        left.addStretch(1)

        right = QVBoxLayout()
        right.setSpacing(6)
        right.addSpacing(130)
        self.recent_heading.setMinimumWidth(240)
        right.addWidget(self.recent_heading)
        right.addLayout(self.recent_box)
        right.addStretch(1)

        content = QWidget()
        row = QHBoxLayout(content)
        row.setContentsMargins(48, 36, 48, 36)
        row.setSpacing(40)
        row.addLayout(left, 0)
        row.addLayout(right, 0)
        row.addStretch(1)
        self._right = right
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._columns = 0
        self.retranslate()

    # ----- content -------------------------------------------------------------------------

    def set_presets(self, entries: list[PresetEntry]) -> None:
        for card in self.cards:
            self.grid.removeWidget(card)
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        for entry in entries:
            card = PresetCard(entry)
            card.clicked.connect(self.preset_chosen)
            self.cards.append(card)
        self.loading.setVisible(not entries)
        self._columns = 0
        self._relayout()

    def set_parameters(self, counts: Mapping[str, int]) -> None:
        """Show the parameter counts of the cards named in `counts` (they were drawn without)."""
        for card in self.cards:
            if card.entry.name in counts:
                card.entry = dataclasses.replace(card.entry, parameters=counts[card.entry.name])
                card.retranslate()

    def set_recent(self, paths: list[str]) -> None:
        self._recent = list(paths)
        while self.recent_box.count():
            item = self.recent_box.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.setParent(None)
        if not paths:
            empty = QLabel(self.tr("No recent projects yet."))
            empty.setStyleSheet(f"color: {theme.colors().text_dim.name()};")
            self.recent_box.addWidget(empty)
            return
        for path in paths:
            button = QPushButton(Path(path).name)
            button.setFlat(True)
            button.setToolTip(path)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setStyleSheet("text-align: left; padding: 3px 6px;")
            button.setEnabled(os.path.exists(path))
            button.clicked.connect(lambda _=False, p=path: self.recent_chosen.emit(p))
            self.recent_box.addWidget(button)

    def set_projects_folder(self, folder: Path) -> None:
        """Show the projects folder (a link that opens it in the file manager)."""
        self._folder = Path(folder)
        self._show_folder()

    def _show_folder(self) -> None:
        self.folder_label.setVisible(self._folder is not None)
        if self._folder is None:
            return
        shown = str(self._folder)
        home = str(Path.home())
        if shown == home or shown.startswith(home + os.sep):
            shown = "~" + shown[len(home):]
        link = f'<a href="open">{html.escape(shown)}</a>'
        self.folder_label.setText(self.tr("Projects folder: %1").replace("%1", link))
        self.folder_label.setToolTip(self.tr("New projects are saved here, and the runs of unsaved ones go to "
                                             "its runs/ folder. Change it in Preferences."))
        self.folder_label.setStyleSheet(f"color: {theme.colors().text_dim.name()};")

    def _open_folder(self, _link: str) -> None:
        if self._folder is None:
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._folder)))

    def card(self, name: str) -> PresetCard:
        return next(c for c in self.cards if c.entry.name == name)

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self) -> None:
        available = max(self.width() - 96 - 40 - 240, CARD_WIDTH)
        columns = max(1, int((available + 16) // (CARD_WIDTH + 16)))
        if columns == self._columns and all(self.grid.indexOf(c) >= 0 for c in self.cards):
            return
        self._columns = columns
        for card in self.cards:
            self.grid.removeWidget(card)
        for i, card in enumerate(self.cards):
            self.grid.addWidget(card, i // columns, i % columns)

    # ----- language ------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.tagline.setText(self.tr("Design a neural network by drawing it, train it, export it."))
        self.new_button.setText(self.tr("New project"))
        self.open_button.setText(self.tr("Open…"))
        self.presets_heading.setText(self.tr("Start from a preset"))
        self.recent_heading.setText(self.tr("Recent projects"))
        self.loading.setText(self.tr("Loading presets…"))
        self.tagline.setStyleSheet(f"color: {theme.colors().text_dim.name()};")
        self._show_folder()
        self.set_recent(self._recent)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

