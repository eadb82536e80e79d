"""The Model summary panel: per layer output shape, params and FLOPs; totals, size and the
estimated training memory at a chosen batch size."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.labels import count_label
from workbench.gui.session import EditorSession


def _bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


class SummaryPanel(QWidget):
    """Table + totals; follows the session's summary."""

    node_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: EditorSession | None = None
        self.batch = QSpinBox()
        self.batch.setRange(1, 1 << 16)
        self.batch.setValue(32)
        self.batch.setKeyboardTracking(False)
        self.batch.valueChanged.connect(self._batch_changed)
        self.batch_label = QLabel()
        self.totals = QLabel()
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.totals.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.cellClicked.connect(self._clicked)
        top = QHBoxLayout()
        top.addWidget(self.totals, 1)
        top.addWidget(self.batch_label)
        top.addWidget(self.batch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self._node_ids: list[str] = []
        self.retranslate()

    def set_session(self, session: EditorSession | None) -> None:
        if self.session is not None:
            self.session.summary_changed.disconnect(self.refresh)
        self.session = session
        if session is not None:
            session.summary_changed.connect(self.refresh)
            self.batch.blockSignals(True)
            self.batch.setValue(session.batch_size)
            self.batch.blockSignals(False)
        self.refresh()

    def _batch_changed(self, value: int) -> None:
        if self.session is not None:
            self.session.set_batch_size(value)

    def refresh(self) -> None:
        summary = self.session.summary if self.session is not None else None
        self.table.setRowCount(0)
        self._node_ids = []
        if summary is None:
            if self.session is not None and self.session.summary_error == "invalid":
                self.totals.setText(self.tr("Fix the problems listed in the Problems panel to see the summary."))
            elif self.session is not None and self.session.summary_error:
                self.totals.setText(self.tr("No summary: %1").replace("%1", self.session.summary_error))
            else:
                self.totals.setText("")
            return
        self.table.setRowCount(len(summary.rows))
        for r, row in enumerate(summary.rows):
            cells = [row.name, row.type, count_label(row.params) if row.params else "–",
                     count_label(row.flops) if row.flops else "–", row.output_shape]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 2:
                    item.setToolTip(f"{row.params:,}")
                if c == 3:
                    item.setToolTip(f"{row.flops:,}")
                self.table.setItem(r, c, item)
            self._node_ids.append(row.node_id)
        self.totals.setText(
            self.tr("<b>%1</b> parameters · <b>%2</b> weights (fp32) · <b>%3</b> FLOPs per sample · "
                    "training memory ≈ <b>%4</b> at batch %5")
            .replace("%1", f"{summary.total_params:,}")
            .replace("%2", _bytes(summary.size_mb * 1e6))
            .replace("%3", count_label(summary.total_flops))
            .replace("%4", _bytes(summary.train_memory_bytes))
            .replace("%5", str(summary.batch_size))
        )

    def _clicked(self, row: int, column: int) -> None:
        if 0 <= row < len(self._node_ids):
            self.node_activated.emit(self._node_ids[row])

    def retranslate(self) -> None:
        self.batch_label.setText(self.tr("Batch size"))
        self.table.setHorizontalHeaderLabels([self.tr("Layer"), self.tr("Type"), self.tr("Params"),
                                              self.tr("FLOPs"), self.tr("Output shape")])
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
