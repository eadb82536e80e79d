"""The run's progress: a bar over all steps, and a line with epoch, step, ETA, speed and memory.

The panel calls `update_progress` after every drain of the run's events (up to 30 times a
second); what it shows changes at most every PROGRESS_INTERVAL_S (the last call is shown when
the interval is over, and `update_progress(force=True)` / `finish` show it at once). The detail
line is a `DetailLine`, not a QLabel: a label's setText asks its layout for a new size every
time, which re-lays out the whole dock several times a second while a run goes.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QVBoxLayout, QWidget

from workbench.gui import theme
from workbench.gui.throttle import Throttle
from workbench.gui.training.memory import device_memory_in_use
from workbench.gui.training.settings_form import format_bytes
from workbench.gui.training.series import RunSeries

MEMORY_POLL_S = 0.5
RATE_WINDOW = 50  # steps over which the ETA's speed is measured
PROGRESS_INTERVAL_S = 0.25  # the bar and the detail line change at most this often (4 Hz)
DETAIL_LINES = 2  # the detail line's height: it wraps once in a narrow dock


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class DetailLine(QWidget):
    """Text in a box of fixed height (DETAIL_LINES lines) that wraps at words.

    Its size never depends on its text, so `setText` only repaints it: no layout request goes
    up to the dock (QLabel.setText always sends one).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def _fit_height(self) -> None:
        self.setFixedHeight(DETAIL_LINES * self.fontMetrics().lineSpacing() + 2)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        if text != self._text:
            self._text = text
            self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, self.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, self.height())  # a narrow dock wraps (or cuts) the text: it never widens

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()
        super().changeEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.drawText(self.rect(), int(flags), self._text)
        painter.end()


class ProgressView(QWidget):
    """Bar, detail line and a status line (what is happening, or how the run ended)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.detail = DetailLine()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.status)
        self.device = ""
        self.epochs: int | None = None
        self._memory_at = 0.0
        self._memory_text = ""
        self._waiting: tuple[RunSeries, dict[str, Any]] | None = None  # the newest update not shown yet
        self._updates = Throttle(PROGRESS_INTERVAL_S, self._show_waiting, self)
        self.reset()

    def reset(self) -> None:
        self._updates.cancel()
        self._waiting = None
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setFormat("")
        self.detail.setText("")
        self.device = ""
        self.epochs = None
        self._memory_text = ""

    def begin(self, epochs: int | None) -> None:
        self.reset()
        self.epochs = epochs
        self.bar.setRange(0, 0)  # busy until the first step tells how many there are

    def set_status(self, text: str, kind: str = "info") -> None:
        """kind: info, ok, warning or error (colours the line)."""
        c = theme.colors()
        color = {"error": c.error.name(), "warning": c.warning.darker(130).name(),
                 "ok": "#2f855a" if not theme.is_dark() else "#68d391"}.get(kind, "")
        self.status.setStyleSheet(f"color: {color};" if color else "")
        self.status.setText(text)

    def update_progress(self, series: RunSeries, meta: dict[str, Any], force: bool = False) -> None:
        """Show the run's progress, at most every PROGRESS_INTERVAL_S unless `force`d: a call
        within the interval is shown when the interval is over (if no newer one came)."""
        self._waiting = (series, meta)
        if force:
            self._updates.run_now()
        else:
            self._updates.request()

    def _show_waiting(self) -> None:
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._show(*waiting)

    def _show(self, series: RunSeries, meta: dict[str, Any]) -> None:
        n = series.step_count()
        if not n:
            return
        self.device = str(meta.get("device") or self.device)
        epochs = meta.get("epochs") or self.epochs
        per = series.steps_per_epoch
        step = series.last_step()
        total = per * epochs if per and epochs else None
        epoch = int(series.epoch_of_step.last(1))
        rate = math.nan
        k = min(n - 1, RATE_WINDOW)
        if k >= 1:
            dt = series.time.view()[n - 1] - series.time.view()[n - 1 - k]
            ds = series.step.view()[n - 1] - series.step.view()[n - 1 - k]
            rate = ds / dt if dt > 0 else math.nan
        if total:
            if (self.bar.minimum(), self.bar.maximum()) != (0, total):
                self.bar.setRange(0, total)
            self.bar.setValue(min(step, total))
            self.bar.setFormat(f"{min(step, total) / total:.0%}")
        parts = [self.tr("Epoch %1/%2").replace("%1", str(epoch)).replace("%2", str(epochs or "?")),
                 self.tr("step %1/%2").replace("%1", f"{step:,}").replace("%2", f"{total:,}" if total else "?")]
        if total and math.isfinite(rate) and rate > 0:
            parts.append(self.tr("ETA %1").replace("%1", format_duration((total - step) / rate)))
        speed = series.samples_per_s.last()
        if math.isfinite(speed) and speed > 0:
            parts.append(self.tr("%1 samples/s").replace("%1", f"{speed:,.0f}"))
        now = time.monotonic()
        if self.device and ("memory" in meta or now - self._memory_at >= MEMORY_POLL_S):
            self._memory_at = now
            # A run in a training process reports its own memory ((None, "") until it has);
            # this process's memory says nothing about it.
            used, what = meta["memory"] if "memory" in meta else device_memory_in_use(self.device)
            if used is not None:
                label = self.tr("memory %1 (process)") if what == "process" else self.tr("%2 memory %1")
                self._memory_text = label.replace("%1", format_bytes(used)).replace("%2", self.device)
        if self._memory_text:
            parts.append(self._memory_text)
        self.detail.setText(" · ".join(parts))

    def finish(self, series: RunSeries | None) -> None:
        self._updates.run_now()  # the last numbers of the run, not those of up to 0.25 s before
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("")
