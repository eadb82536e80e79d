"""Live training curves (pyqtgraph): loss per step, validation metric per epoch, learning rate.

Three plots side by side share the x axis, switchable between step, epoch and training time:

- Loss: the raw loss of every step (faint), its smoothed line, and the validation loss per epoch.
- The task's validation metric per epoch (accuracy, token accuracy or mean absolute error).
- The learning rate per step.

Each run shown (the live one and any overlaid from the runs list) has one colour and one set of
curves, created once; new points arrive with `setData` on views of growing arrays
(`RunSeries`), with `setDownsampling(auto=True, method="peak")` and `setClipToView(True)`, so a
million points stay smooth. The training panel calls `refresh()` after each drain of the event
buffer, at most every 34 ms, so redraws stay at or under 30 Hz.

For benchmarks and tests:
    plot.step_count()            # points in the live run's raw loss curve (one per step)
    plot.step_data()             # (x, loss) numpy arrays the live loss curve holds
    plot.points_appended         # Signal(int new_points, float newest_event_perf_counter)
    plot.frame_painted           # Signal(float perf_counter, int newest_step_drawn)
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.gui import theme
from workbench.gui.training.series import X_MODES, RunSeries

log = logging.getLogger(__name__)

# One colour per run, told apart at a glance (Tableau 10).
RUN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
              "#bcbd22", "#17becf")
METRIC_ORDER = ("val_accuracy", "val_token_accuracy", "val_mae", "val_perplexity")


def _curve(plot: pg.PlotItem, pen: QPen, symbol: str | None = None, color: QColor | None = None) -> pg.PlotDataItem:
    item = pg.PlotDataItem([], [], pen=pen, symbol=symbol, symbolSize=6, symbolBrush=color, symbolPen=None)
    plot.addItem(item)  # (addItem applies the plot's own decimation settings: set ours after it)
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


@dataclass
class RunCurves:
    """The curves of one run on the three plots."""

    key: str
    name: str
    series: RunSeries
    color: QColor
    raw: pg.PlotDataItem | None
    smooth: pg.PlotDataItem
    val: pg.PlotDataItem
    metric: pg.PlotDataItem
    lr: pg.PlotDataItem
    drawn_steps: int = 0
    drawn_epochs: int = -1
    extra: dict[str, Any] = field(default_factory=dict)

    def items(self) -> list[pg.PlotDataItem]:
        return [i for i in (self.raw, self.smooth, self.val, self.metric, self.lr) if i is not None]


class _Graphics(pg.GraphicsLayoutWidget):
    """The layout widget, telling when it has painted (step-to-screen latency)."""

    painted = Signal(float)

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        super().paintEvent(event)
        self.painted.emit(time.perf_counter())


class LivePlot(QWidget):
    """Loss, metric and learning-rate plots for the live run and overlaid runs."""

    points_appended = Signal(int, float)  # new step points in this refresh, perf_counter of the newest event
    frame_painted = Signal(float, int)  # perf_counter after a repaint, the newest live step on screen
    x_mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        from workbench.gui.app import work_around_refcount_bugs

        work_around_refcount_bugs()  # a live plot makes thousands of Qt calls a second from Python
        super().__init__(parent)
        self.runs: dict[str, RunCurves] = {}
        self.live_key: str | None = None
        self.x_mode = "step"
        self.metric_name: str | None = None
        self._newest_step_drawn = 0

        self.x_label = QLabel()
        self.x_combo = QComboBox()
        for mode in X_MODES:
            self.x_combo.addItem(mode, mode)
        self.smoothing_label = QLabel()
        self.smoothing = QDoubleSpinBox()
        self.smoothing.setRange(0.0, 0.99)
        self.smoothing.setSingleStep(0.05)
        self.smoothing.setDecimals(2)
        self.smoothing.setValue(0.9)
        self.export_png_button = QPushButton()
        self.export_csv_button = QPushButton()
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        bar.addWidget(self.x_label)
        bar.addWidget(self.x_combo)
        bar.addSpacing(12)
        bar.addWidget(self.smoothing_label)
        bar.addWidget(self.smoothing)
        bar.addStretch(1)
        bar.addWidget(self.export_png_button)
        bar.addWidget(self.export_csv_button)

        self.graphics = _Graphics()
        self.graphics.ci.setContentsMargins(4, 4, 4, 4)
        self.loss_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0)
        self.metric_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=1)
        self.lr_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=2)
        for plot in self.plots():
            plot.setDownsampling(auto=True, mode="peak")  # also what PlotItem.addItem gives new items
            plot.setClipToView(True)
            # No grid: pyqtgraph draws it through the axes' QPicture, ~15 ms a frame in software
            # rendering (5x the curves), time the GUI thread needs while a run goes.
            plot.setMenuEnabled(True)
            plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.metric_plot.setXLink(self.loss_plot)
        self.lr_plot.setXLink(self.loss_plot)
        self.lr_plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.graphics.painted.connect(self._painted)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)

        self.x_combo.currentIndexChanged.connect(lambda _i: self.set_x_mode(self.x_combo.currentData()))
        self.smoothing.valueChanged.connect(self.set_smoothing)
        self.export_png_button.clicked.connect(self.export_png_dialog)
        self.export_csv_button.clicked.connect(self.export_csv_dialog)
        self.apply_theme()
        self.retranslate()

    def plots(self) -> list[pg.PlotItem]:
        return [self.loss_plot, self.metric_plot, self.lr_plot]

    # ----- texts and look --------------------------------------------------------------------

    def retranslate(self) -> None:
        self.x_label.setText(self.tr("X axis"))
        names = {"step": self.tr("step"), "epoch": self.tr("epoch"), "time": self.tr("time (s)")}
        for i in range(self.x_combo.count()):
            self.x_combo.setItemText(i, names[self.x_combo.itemData(i)])
        self.smoothing_label.setText(self.tr("Smoothing"))
        self.smoothing.setToolTip(self.tr("Weight of the moving average drawn over the raw loss (0 = none)"))
        self.export_png_button.setText(self.tr("Save PNG…"))
        self.export_png_button.setToolTip(self.tr("Save the plots as a PNG picture"))
        self.export_csv_button.setText(self.tr("Save CSV…"))
        self.export_csv_button.setToolTip(self.tr("Save the live (or first shown) run's metrics as a CSV table"))
        self._update_titles()

    def _metric_title(self, name: str | None) -> str:
        titles = {
            "val_accuracy": self.tr("Validation accuracy"),
            "val_token_accuracy": self.tr("Validation token accuracy"),
            "val_mae": self.tr("Validation mean absolute error"),
            "val_perplexity": self.tr("Validation perplexity"),
        }
        return titles.get(name or "", self.tr("Validation metric"))

    def _update_titles(self) -> None:
        color = theme.colors().text.name()
        self.loss_plot.setTitle(self.tr("Loss — line: training (smoothed), dots: validation"), color=color, size="9pt")
        self.metric_plot.setTitle(self._metric_title(self.metric_name), color=color, size="9pt")
        self.lr_plot.setTitle(self.tr("Learning rate"), color=color, size="9pt")
        x_text = {"step": self.tr("step"), "epoch": self.tr("epoch"), "time": self.tr("training time (s)")}[self.x_mode]
        for plot in self.plots():
            plot.setLabel("bottom", x_text)

    def apply_theme(self) -> None:
        c = theme.colors()
        self.graphics.setBackground(c.card)
        for plot in self.plots():
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(c.text_dim))
                axis.setTextPen(pg.mkPen(c.text_dim))
        self.legend.setLabelTextColor(c.text)
        self.legend.setBrush(pg.mkBrush(c.card.red(), c.card.green(), c.card.blue(), 200))
        self._update_titles()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.PaletteChange:
            self.apply_theme()
        super().changeEvent(event)

    # ----- runs ------------------------------------------------------------------------------

    def add_run(self, key: str, name: str, series: RunSeries, color: QColor | str, live: bool = False) -> RunCurves:
        """Show a run (replacing one with the same key); `live` makes it the run being trained."""
        if key in self.runs:
            self.remove_run(key)
        color = QColor(color)
        faint = QColor(color)
        faint.setAlpha(70)
        dashed = pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine)
        series.set_smoothing(self.smoothing.value())
        show_raw = live or not self.runs
        curves = RunCurves(
            key, name, series, color,
            raw=_curve(self.loss_plot, pg.mkPen(faint, width=1)) if show_raw else None,
            smooth=_curve(self.loss_plot, pg.mkPen(color, width=2)),
            val=_curve(self.loss_plot, dashed, "o", color),
            metric=_curve(self.metric_plot, pg.mkPen(color, width=2), "o", color),
            lr=_curve(self.lr_plot, pg.mkPen(color, width=1.5)),
        )
        self.runs[key] = curves
        self.legend.addItem(curves.smooth, name)
        if live:
            self.live_key = key
        self._choose_metric()
        self.refresh([key], force=True)
        return curves

    def remove_run(self, key: str) -> None:
        curves = self.runs.pop(key, None)
        if curves is None:
            return
        self.legend.removeItem(curves.smooth)
        for item in (curves.raw, curves.smooth, curves.val):
            if item is not None:
                self.loss_plot.removeItem(item)
        self.metric_plot.removeItem(curves.metric)
        self.lr_plot.removeItem(curves.lr)
        if self.live_key == key:
            self.live_key = None
        self._choose_metric()

    def clear(self) -> None:
        for key in list(self.runs):
            self.remove_run(key)

    def _choose_metric(self) -> None:
        names: list[str] = []
        for curves in self.runs.values():
            names += [n for n in curves.series.metric_names() if n not in names]
        chosen = next((n for n in METRIC_ORDER if n in names), names[0] if names else None)
        if chosen != self.metric_name:
            self.metric_name = chosen
            self._update_titles()
            for curves in self.runs.values():
                curves.drawn_epochs = -1  # redraw with the new metric

    # ----- drawing ---------------------------------------------------------------------------

    def refresh(self, keys: list[str] | None = None, newest_time: float = math.nan, force: bool = False) -> int:
        """Push new points of the given runs (default: all) to their curves; returns new step points."""
        added = 0
        lr_changed = False
        before_metric = self.metric_name
        for key in keys if keys is not None else list(self.runs):
            curves = self.runs.get(key)
            if curves is None:
                continue
            s = curves.series
            if s.metric_names() and before_metric not in s.metric_names():
                self._choose_metric()
            n = s.step_count()
            if force or n != curves.drawn_steps:
                x = s.step_x(self.x_mode)
                if curves.raw is not None:
                    curves.raw.setData(x, s.loss.view())
                curves.smooth.setData(x, s.smooth.view())
                lr = s.lr.view()
                curves.lr.setData(x, lr)
                new = lr[0 if force else curves.drawn_steps:]
                new = new[np.isfinite(new)]
                if len(new):
                    lo, hi = curves.extra.get("lr_range", (math.inf, -math.inf))
                    curves.extra["lr_range"] = (min(lo, float(new.min())), max(hi, float(new.max())))
                    lr_changed = True
                added += max(0, n - curves.drawn_steps)
                curves.drawn_steps = n
                if key == self.live_key:
                    self._newest_step_drawn = s.last_step()
            e = s.epoch_count()
            if force or e != curves.drawn_epochs:
                ex = s.epoch_x_values(self.x_mode)
                curves.val.setData(ex, s.val_loss.view())
                metric = s.metrics.get(self.metric_name or "")
                curves.metric.setData(ex, metric.view() if metric is not None else np.full(len(ex), np.nan))
                curves.drawn_epochs = e
        if lr_changed or force:
            self._fit_lr_axis()
        if added:
            self.points_appended.emit(added, newest_time)
        return added

    def _fit_lr_axis(self) -> None:
        """A constant learning rate would sit on an axis of ±0.5 around it: show 0 … 1.25 × lr."""
        ranges = [c.extra["lr_range"] for c in self.runs.values() if "lr_range" in c.extra]
        if not ranges:
            return
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        box = self.lr_plot.getViewBox()
        if hi > 0 and hi - lo <= 1e-6 * hi:
            box.enableAutoRange(axis=pg.ViewBox.YAxis, enable=False)
            box.setYRange(0.0, hi * 1.25, padding=0)
        elif not box.autoRangeEnabled()[1]:
            box.enableAutoRange(axis=pg.ViewBox.YAxis, enable=True)

    def _painted(self, when: float) -> None:
        self.frame_painted.emit(when, self._newest_step_drawn)

    def set_x_mode(self, mode: str) -> None:
        if mode not in X_MODES or mode == self.x_mode and self.x_combo.currentData() == mode:
            return
        self.x_mode = mode
        index = self.x_combo.findData(mode)
        if self.x_combo.currentIndex() != index:
            self.x_combo.setCurrentIndex(index)
        self._update_titles()
        self.refresh(force=True)
        for plot in self.plots():
            plot.enableAutoRange()
        self.x_mode_changed.emit(mode)

    def set_smoothing(self, weight: float) -> None:
        for curves in self.runs.values():
            curves.series.set_smoothing(weight)
        self.refresh(force=True)

    # ----- reading, for the panel, tests and benchmarks ----------------------------------------

    def live(self) -> RunCurves | None:
        return self.runs.get(self.live_key) if self.live_key else None

    def step_count(self, key: str | None = None) -> int:
        """Points in the run's raw (else smoothed) loss curve: one per step drawn so far."""
        x, _ = self.step_data(key)
        return len(x)

    def step_data(self, key: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(x, loss) as the run's loss curve holds them (the live run by default)."""
        curves = self.runs.get(key or self.live_key or "") or (next(iter(self.runs.values()), None))
        if curves is None:
            return np.empty(0), np.empty(0)
        item = curves.raw if curves.raw is not None else curves.smooth
        x, y = item.getOriginalDataset()
        if x is None:
            return np.empty(0), np.empty(0)
        return np.asarray(x), np.asarray(y)

    # ----- export ----------------------------------------------------------------------------

    def export_png(self, path: str | Path) -> Path:
        """The three plots as one PNG (pyqtgraph's ImageExporter), at twice the screen size."""
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(self.graphics.ci)
        params = exporter.parameters()
        params["width"] = max(800, int(self.graphics.width() * 2))
        params["background"] = theme.colors().card
        target = Path(path)
        exporter.export(str(target))
        return target

    def export_csv(self, path: str | Path, key: str | None = None) -> Path:
        curves = self.runs.get(key or self.live_key or "") or next(iter(self.runs.values()), None)
        if curves is None:
            raise ValueError("no run is shown")
        return curves.series.to_csv(path)

    def export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save the plots"), "curves.png", self.tr("PNG pictures (*.png)"))
        if not path:
            return
        try:
            self.export_png(path if path.lower().endswith(".png") else path + ".png")
        except Exception as exc:  # a full disk or an unwritable folder: say so
            QMessageBox.warning(self, self.tr("Cannot save the plots"), str(exc))

    def export_csv_dialog(self) -> None:
        if not self.runs:
            QMessageBox.information(self, self.tr("Save CSV"), self.tr("There is no run to save yet: train one or pick one in the runs list."))
            return
        curves = self.live() or next(iter(self.runs.values()))
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save the metrics"), f"{Path(curves.key).name}.csv",
                                              self.tr("CSV tables (*.csv)"))
        if not path:
            return
        try:
            self.export_csv(path if path.lower().endswith(".csv") else path + ".csv", curves.key)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("Cannot save the metrics"), str(exc))


def run_color(index: int) -> QColor:
    return QColor(RUN_COLORS[index % len(RUN_COLORS)])
