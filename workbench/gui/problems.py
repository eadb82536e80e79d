"""The Problems panel: every problem analysis found, worded by the core; a click selects its layer."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from workbench.gui import theme
from workbench.gui.session import EditorSession

ROLE_NODE = Qt.ItemDataRole.UserRole + 1


def _dot(color: QColor) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(2, 2, 10, 10)
    p.setPen(QColor("#ffffff"))
    font = p.font()
    font.setBold(True)
    font.setPixelSize(9)
    p.setFont(font)
    p.drawText(2, 2, 10, 10, Qt.AlignmentFlag.AlignCenter, "!")
    p.end()
    return QIcon(pix)


class ProblemsPanel(QWidget):
    """List of problems; `node_activated` when the user clicks one that belongs to a layer."""

    node_activated = Signal(str)
    count_changed = Signal(int, int)  # errors, warnings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: EditorSession | None = None
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setWordWrap(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        self.retranslate()

    def set_session(self, session: EditorSession | None) -> None:
        if self.session is not None:
            self.session.analysis_changed.disconnect(self.refresh)
        self.session = session
        if session is not None:
            session.analysis_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.tree.clear()
        if self.session is None:
            return
        graph = self.session.graph
        c = theme.colors()
        errors = warnings = 0
        problems = sorted(self.session.analysis.problems, key=lambda p: p.severity != "error")
        for problem in problems:
            where = ""
            if problem.node_id is not None and graph.has_node(problem.node_id):
                where = graph.node(problem.node_id).name
            item = QTreeWidgetItem(self.tree, [problem.message, where])
            item.setToolTip(0, problem.message)
            item.setData(0, ROLE_NODE, problem.node_id)
            error = problem.severity == "error"
            item.setIcon(0, _dot(c.error if error else c.warning))
            errors += error
            warnings += not error
        if not problems:
            item = QTreeWidgetItem(self.tree, [self.tr("No problems: the network is ready to train."), ""])
            item.setForeground(0, QBrush(self.palette().placeholderText().color()))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.count_changed.emit(errors, warnings)

    def problem_count(self) -> int:
        return len(self.session.analysis.problems) if self.session is not None else 0

    def _clicked(self, item: QTreeWidgetItem, column: int = 0) -> None:
        node_id = item.data(0, ROLE_NODE)
        if node_id:
            self.node_activated.emit(str(node_id))

    def retranslate(self) -> None:
        self.tree.setHeaderLabels([self.tr("Problem"), self.tr("Layer")])
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
