"""The run's progress: a bar over all steps, and a line with epoch, step, ETA, speed and memory."""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from workbench.gui import theme
from workbench.gui.training.memory import device_memory_in_use
from workbench.gui.training.settings_form import format_bytes
from workbench.gui.training.series import RunSeries

MEMORY_POLL_S = 0.5
RATE_WINDOW = 50  # steps over which the ETA's speed is measured


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressView(QWidget):
    """Bar, detail line and a status line (what is happening, or how the run ended)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
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
        self.reset()

    def reset(self) -> None:
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

    def update_progress(self, series: RunSeries, meta: dict[str, Any]) -> None:
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
        if self.device and now - self._memory_at >= MEMORY_POLL_S:
            self._memory_at = now
            used, what = device_memory_in_use(self.device)
            if used is not None:
                label = self.tr("memory %1 (process)") if what == "process" else self.tr("%2 memory %1")
                self._memory_text = label.replace("%1", format_bytes(used)).replace("%2", self.device)
        if self._memory_text:
            parts.append(self._memory_text)
        self.detail.setText(" · ".join(parts))

    def finish(self, series: RunSeries | None) -> None:
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("")
