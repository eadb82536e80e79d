"""The runs of the open project, from its runs folder: made here or with `workbench train`.

Each run has a colour (the same in the plots) and a check box that overlays its curves. The
selected run can be continued from its last checkpoint (Resume) or inspected (Results).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.training.plots import run_color
from workbench.gui.training.run_folders import RunInfo, display_name, find_runs, read_run_info

PATH_ROLE = Qt.ItemDataRole.UserRole


def _swatch(color: QColor) -> QIcon:
    pix = QPixmap(12, 12)
    pix.fill(color)
    return QIcon(pix)


class RunsList(QWidget):
    """Runs of one project, newest at the top."""

    overlay_toggled = Signal(object, bool)  # RunInfo, shown
    selection_changed = Signal(object)  # RunInfo | None
    resume_requested = Signal(object)  # RunInfo
    results_requested = Signal(object)  # RunInfo

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self._root_of: Callable[[], Path] | None = None
        self.project_name: str | None = None
        self.infos: dict[str, RunInfo] = {}
        self._colors: dict[str, int] = {}
        self._filling = False
        self.live_path: str | None = None
        self.busy = False  # a run is going: Resume waits

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, self.tree.header().ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, self.tree.header().ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(2, self.tree.header().ResizeMode.ResizeToContents)
        self.refresh_button = QPushButton()
        self.resume_button = QPushButton()
        self.results_button = QPushButton()
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.results_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 2, 2)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)

        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(lambda item, _c: self._request(self.results_requested, item))
        self.refresh_button.clicked.connect(self.refresh)
        self.resume_button.clicked.connect(lambda: self._request(self.resume_requested, self.tree.currentItem()))
        self.results_button.clicked.connect(lambda: self._request(self.results_requested, self.tree.currentItem()))
        self.retranslate()
        self._selection_changed()

    def retranslate(self) -> None:
        self.tree.setHeaderLabels([self.tr("Run"), self.tr("Status"), self.tr("Result")])
        self.refresh_button.setText(self.tr("Refresh"))
        self.refresh_button.setToolTip(self.tr("Look for new runs in the runs folder (also those made with workbench train)"))
        self.resume_button.setText(self.tr("Resume"))
        self.resume_button.setToolTip(self.tr("Continue the selected run from its last checkpoint with the project's "
                                              "current settings (raise Epochs to train longer)"))
        self.results_button.setText(self.tr("Results"))
        self.results_button.setToolTip(self.tr("Show the selected run's confusion matrix, samples or predictions"))
        self.tree.setToolTip(self.tr("Tick a run to overlay its curves on the plots"))
        self._fill()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # ----- content ---------------------------------------------------------------------------

    def set_project(self, root: Callable[[], Path] | None, project_name: str | None) -> None:
        """`root` gives the runs folder when called: it moves when the project is saved elsewhere."""
        self.infos.clear()
        self._root_of = root
        self.project_name = project_name
        self.refresh()

    def refresh(self) -> None:
        """Read the runs folder again (cheap: two small JSON files per run)."""
        self.root = self._root_of() if self._root_of is not None else None
        found = find_runs(self.root, self.project_name) if self.root is not None else []
        checked = {p for p in self.checked_paths()}
        self.infos = {str(info.path): info for info in found}
        if self.live_path and self.live_path not in self.infos:
            info = read_run_info(Path(self.live_path))
            self.infos[self.live_path] = info or RunInfo(Path(self.live_path), self.project_name or "", "running")
        for path in self.infos:
            self.color_of(path)
        self._fill(checked)

    def label_of(self, path: str | Path) -> str:
        """How a run is named in the list and the legend: its start time for the app's own names."""
        return display_name(Path(path), self.project_name)

    def color_of(self, path: str | Path) -> QColor:
        key = str(path)
        if key not in self._colors:
            self._colors[key] = len(self._colors)
        return run_color(self._colors[key])

    def _status_text(self, info: RunInfo) -> str:
        names = {"finished": self.tr("finished"), "stopped": self.tr("stopped"), "early_stopped": self.tr("stopped early"),
                 "failed": self.tr("failed"), "running": self.tr("running")}
        if str(info.path) == self.live_path:
            return self.tr("training…")
        return names.get(info.status, info.status)

    def _fill(self, checked: set[str] | None = None) -> None:
        if checked is None:
            checked = set(self.checked_paths())
        current = self.current_info()
        self._filling = True
        try:
            self.tree.clear()
            for path, info in sorted(self.infos.items(), key=lambda kv: (kv[1].started, kv[0]), reverse=True):
                item = QTreeWidgetItem([self.label_of(info.path), self._status_text(info), ""])
                item.setData(0, PATH_ROLE, path)
                item.setIcon(0, _swatch(self.color_of(path)))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if path in checked else Qt.CheckState.Unchecked)
                headline = info.headline()
                if headline is not None:
                    name, value = headline
                    item.setText(2, f"{value:.1%}" if "accuracy" in name else f"{value:.4g}")
                    item.setToolTip(2, name)
                steps = info.summary.get("global_steps")
                tip = str(info.path)
                if steps is not None:
                    tip += "\n" + self.tr("%1 steps, %2 epochs").replace("%1", str(steps)).replace(
                        "%2", str(info.summary.get("epochs", "?")))
                if info.summary.get("message"):
                    tip += "\n" + str(info.summary["message"])
                item.setToolTip(0, tip)
                item.setToolTip(1, tip)
                self.tree.addTopLevelItem(item)
                if current is not None and str(current.path) == path:
                    self.tree.setCurrentItem(item)
        finally:
            self._filling = False
        self._selection_changed()

    # ----- state -----------------------------------------------------------------------------

    def checked_paths(self) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.checkState(0) == Qt.CheckState.Checked:
                out.append(item.data(0, PATH_ROLE))
        return out

    def item_for(self, path: str | Path) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, PATH_ROLE) == str(path):
                return item
        return None

    def set_checked(self, path: str | Path, checked: bool, notify: bool = False) -> None:
        item = self.item_for(path)
        if item is None:
            return
        self._filling = not notify
        try:
            item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        finally:
            self._filling = False

    def current_info(self) -> RunInfo | None:
        item = self.tree.currentItem() if hasattr(self, "tree") else None
        if item is None:
            return None
        return self.infos.get(item.data(0, PATH_ROLE))

    def select(self, path: str | Path) -> None:
        item = self.item_for(path)
        if item is not None:
            self.tree.setCurrentItem(item)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._selection_changed()

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling or column != 0:
            return
        info = self.infos.get(item.data(0, PATH_ROLE))
        if info is not None:
            self.overlay_toggled.emit(info, item.checkState(0) == Qt.CheckState.Checked)

    def _selection_changed(self) -> None:
        info = self.current_info()
        self.resume_button.setEnabled(info is not None and not self.busy and info.last_checkpoint is not None
                                      and str(info.path) != self.live_path)
        self.results_button.setEnabled(info is not None and info.status != "running")
        if not self._filling:
            self.selection_changed.emit(info)

    def _request(self, signal: Signal, item: QTreeWidgetItem | None) -> None:
        if item is None:
            return
        info = self.infos.get(item.data(0, PATH_ROLE))
        if info is not None:
            signal.emit(info)
