"""The layer palette: every registered layer type grouped by category, plus the user's blocks.

Search matches type names, docs and categories. Drag an entry onto the canvas, or double-click /
press Enter to add it in the middle of the view.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from workbench.gui import theme
from workbench.gui.canvas.view import MIME_BLOCK, MIME_LAYER
from workbench.gui.labels import category_label
from workbench.i18n import _ as core_text
from workbench.layers import all_layer_specs, layer_spec

ROLE_KIND = Qt.ItemDataRole.UserRole + 1  # "layer" | "block"
ROLE_ID = Qt.ItemDataRole.UserRole + 2
ROLE_SEARCH = Qt.ItemDataRole.UserRole + 3
BLOCKS = "Blocks"


def _swatch(color: QColor) -> QIcon:
    pix = QPixmap(12, 12)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(1, 1, 10, 10, 3, 3)
    p.end()
    return QIcon(pix)


class _Tree(QTreeWidget):
    """The tree, with drag data of our own."""

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        item = items[0] if items else None
        if item is not None and item.data(0, ROLE_ID):
            fmt = MIME_LAYER if item.data(0, ROLE_KIND) == "layer" else MIME_BLOCK
            mime.setData(fmt, QByteArray(str(item.data(0, ROLE_ID)).encode()))
            mime.setText(str(item.data(0, ROLE_ID)))
        return mime

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_LAYER, MIME_BLOCK]


class Palette(QWidget):
    """Searchable tree of layer types and blocks."""

    layer_activated = Signal(str)  # type id
    block_activated = Signal(str)  # block name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.tree = _Tree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._activate)
        self.tree.installEventFilter(self)
        self.search.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._blocks: list[tuple[str, str]] = []
        self._categories: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self.retranslate()

    def _populate(self) -> None:
        self.tree.clear()
        self._categories.clear()
        for spec in all_layer_specs():
            parent = self._category_item(spec.category)
            item = QTreeWidgetItem(parent, [spec.type_id])
            item.setData(0, ROLE_KIND, "layer")
            item.setData(0, ROLE_ID, spec.type_id)
            item.setData(0, ROLE_SEARCH, f"{spec.type_id} {spec.doc} {spec.category}".lower())
            item.setToolTip(0, f"<b>{spec.type_id}</b><br>{core_text(spec.doc)}")
            item.setIcon(0, _swatch(theme.category_color(spec.category)))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self._fill_blocks()
        self.tree.expandAll()

    def _category_item(self, category: str) -> QTreeWidgetItem:
        item = self._categories.get(category)
        if item is None:
            item = QTreeWidgetItem(self.tree, [category_label(category)])
            item.setData(0, ROLE_KIND, "category")
            item.setData(0, ROLE_SEARCH, category.lower())
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            item.setForeground(0, QBrush(self.palette().placeholderText().color()))
            self._categories[category] = item
        return item

    def set_blocks(self, blocks: list[tuple[str, str]]) -> None:
        """(name, description) of each saved block."""
        self._blocks = list(blocks)
        self._fill_blocks()
        self._filter(self.search.text())

    def _fill_blocks(self) -> None:
        item = self._categories.pop(BLOCKS, None)
        if item is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        if not self._blocks:
            return
        parent = self._category_item(BLOCKS)
        for name, description in self._blocks:
            child = QTreeWidgetItem(parent, [name])
            child.setData(0, ROLE_KIND, "block")
            child.setData(0, ROLE_ID, name)
            child.setData(0, ROLE_SEARCH, f"{name} {description}".lower())
            child.setToolTip(0, f"<b>{name}</b><br>{description}")
            child.setIcon(0, _swatch(QColor(theme.BLOCK_COLOR)))
            child.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        parent.setExpanded(True)

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        first_match: QTreeWidgetItem | None = None
        for i in range(self.tree.topLevelItemCount()):
            category = self.tree.topLevelItem(i)
            any_visible = False
            for j in range(category.childCount()):
                child = category.child(j)
                hay = str(child.data(0, ROLE_SEARCH))
                visible = all(w in hay for w in words)
                child.setHidden(not visible)
                if visible:
                    any_visible = True
                    first_match = first_match or child
            category.setHidden(not any_visible)
        if words and first_match is not None:
            self.tree.setCurrentItem(first_match)

    def visible_types(self) -> list[str]:
        """Type ids (and block names) the search currently shows."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            category = self.tree.topLevelItem(i)
            for j in range(category.childCount()):
                child = category.child(j)
                if not child.isHidden() and not category.isHidden():
                    out.append(str(child.data(0, ROLE_ID)))
        return out

    def _activate(self, item: QTreeWidgetItem, column: int = 0) -> None:
        kind = item.data(0, ROLE_KIND)
        if kind == "layer":
            self.layer_activated.emit(str(item.data(0, ROLE_ID)))
        elif kind == "block":
            self.block_activated.emit(str(item.data(0, ROLE_ID)))

    def eventFilter(self, watched, event: QEvent) -> bool:  # noqa: N802, ANN001
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = QKeyEvent(event).key() if not isinstance(event, QKeyEvent) else event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.tree.currentItem() is not None:
                self._activate(self.tree.currentItem())
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self.tree.setFocus()
                return False
        return super().eventFilter(watched, event)

    def retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search layers…"))
        for category, item in self._categories.items():
            item.setText(0, category_label(category))
            for i in range(item.childCount()):  # the layers' docs, from the core's catalog
                child = item.child(i)
                if child.data(0, ROLE_KIND) == "layer":
                    spec = layer_spec(child.data(0, ROLE_ID))
                    child.setToolTip(0, f"<b>{spec.type_id}</b><br>{core_text(spec.doc)}")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
