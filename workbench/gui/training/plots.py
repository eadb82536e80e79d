"""Live training curves (pyqtgraph): loss per step, validation metric per epoch, learning rate.

Three plots side by side share the x axis, switchable between step, epoch and training time:

- Loss: the raw loss of every step (faint), its smoothed line, and the validation loss per epoch.
- The task's validation metric per epoch (accuracy, token accuracy or mean absolute error).
- The learning rate per step.

Each run shown (the live one and any overlaid from the runs list) has one colour and one set of
curves, created once. The per-step curves (raw and smoothed loss, learning rate) never receive a
whole run: `level_of_detail.decimate` gives them the exact points of the x range in view when they fit
in about two points per pixel, else a (max, min) pair per bucket of the run's min/max pyramid,
so a million-step run is drawn from ~a thousand points and zooming in shows every step. They
report the whole run's bounds to auto-ranging (`_StepCurve.dataBounds`), so "view all" still
shows everything. The per-epoch curves are small and use pyqtgraph's own peak downsampling.

While a run trains (the live run's series has no outcome yet) the plot holds still, because a
moving view costs more to paint than the curves: auto-ranging is off, the x axis spans the run's
planned steps (steps_per_epoch × epochs; in time mode an estimate that grows only when passed),
a y axis grows only when a point leaves it (with a margin, so rarely), and pens are 1 px
cosmetic. The axes' ticks and labels are then drawn once, not every frame. Panning or zooming x
by hand leaves x to the user until the "A" button; when the run ends the plots auto-range again.
The training panel calls `request_refresh()` after each drain of the event buffer (every 34 ms
at most): curves get their new points at most every FRAME_INTERVAL_MS (~10 Hz), immediately when
the last frame is older than that.

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
from collections.abc import Callable
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
from workbench.gui.throttle import Throttle
from workbench.gui.training.level_of_detail import decimate, visible_range
from workbench.gui.training.series import X_MODES, RunSeries

log = logging.getLogger(__name__)

# One colour per run, told apart at a glance (Tableau 10).
RUN_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
              "#bcbd22", "#17becf")
METRIC_ORDER = ("val_accuracy", "val_token_accuracy", "val_mae", "val_perplexity")
FRAME_INTERVAL_MS = 100  # new points reach the curves at most this often (~10 Hz) while a run trains
POINTS_PER_PIXEL = 2  # a step curve gets at most this many points per pixel of its plot's width
MIN_POINTS = 1000  # ... and never fewer than this budget (a plot not laid out yet has no width)
Y_MARGIN = 0.2  # while training, a y axis that must grow leaves this share of its span free


def _curve(plot: pg.PlotItem, pen: QPen, symbol: str | None = None, color: QColor | None = None) -> pg.PlotDataItem:
    """A per-epoch curve (validation loss, metric): few points, pyqtgraph's own decimation."""
    item = pg.PlotDataItem([], [], pen=pen, symbol=symbol, symbolSize=6, symbolBrush=color, symbolPen=None)
    plot.addItem(item)  # (addItem applies the plot's own decimation settings: set ours after it)
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


class _StepCurve(pg.PlotDataItem):
    """A per-step curve fed with a level-of-detail view of its run (see `level_of_detail.decimate`).

    It holds only what is in view, so pyqtgraph's bounds of its data would be the view's: auto-
    ranging asks `full_bounds` for the whole run's instead (the pyramid keeps the y bounds, the
    sorted x column its ends), which also spares a scan of a million points per setData.
    """

    def __init__(self, pen: QPen) -> None:
        super().__init__([], [], pen=pen)
        self.full_bounds: Callable[[int], tuple[float, float] | None] | None = None

    def dataBounds(self, ax: int, frac: float = 1.0,  # noqa: N802 (pyqtgraph's name)
                   orthoRange: tuple[float, float] | None = None) -> tuple[Any, Any]:  # noqa: N803
        if self.full_bounds is not None and frac >= 1.0 and orthoRange is None:
            bounds = self.full_bounds(ax)
            return bounds if bounds is not None else (None, None)
        return super().dataBounds(ax, frac, orthoRange)


def _step_curve(plot: pg.PlotItem, pen: QPen) -> _StepCurve:
    item = _StepCurve(pen)
    plot.addItem(item)
    # The level of detail is ours: pyqtgraph's would rescan what we already reduced at every
    # view change (and addItem just switched it on from the plot's settings).
    item.setDownsampling(auto=False)
    item.setClipToView(False)
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
    pens: list[tuple[pg.PlotDataItem, QPen, QPen]] = field(default_factory=list)  # (item, normal, thin)
    lod: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # id(step curve) -> what it holds

    def step_curves(self) -> list[tuple[_StepCurve, str]]:
        """The per-step curves with the series column each draws."""
        out = [(self.raw, "loss")] if self.raw is not None else []
        return out + [(self.smooth, "smooth"), (self.lr, "lr")]

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
        # Throttled refreshes (request_refresh): runs waiting for the next frame, and the newest
        # event time among them.
        self._pending: set[str | None] = set()
        self._pending_time = math.nan
        self._frames = Throttle(FRAME_INTERVAL_MS / 1000, self._flush, self)
        # The still view while a run trains (see the module docstring).
        self._live_view = False
        self._user_x = False  # the user panned or zoomed x during this run: x is theirs
        self._managed_x: tuple[float, float] | None = None
        self._managed_y: dict[int, tuple[float, float]] = {}  # id(plot) -> y range we set
        self._relod_busy = False

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
        for plot in self.plots():
            box = plot.getViewBox()
            # A new x range or width: the step curves get the points of the new view.
            box.sigXRangeChanged.connect(lambda _box, _range, p=plot: self._view_changed(p))
            box.sigResized.connect(lambda _box, p=plot: self._view_changed(p))
            box.sigRangeChangedManually.connect(self._moved_by_hand)
            plot.autoBtn.clicked.connect(self._auto_clicked)  # after the plot's own handler
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
        dash = Qt.PenStyle.DashLine
        series.set_smoothing(self.smoothing.value())
        show_raw = live or not self.runs
        # (colour, width, style) of each curve; while a run trains every pen is 1 px (cheaper to
        # stroke in software), afterwards the curves get their own widths back.
        looks = {"raw": (faint, 1.0, None), "smooth": (color, 2.0, None), "val": (color, 1.5, dash),
                 "metric": (color, 2.0, None), "lr": (color, 1.5, None)}
        pens = {k: (pg.mkPen(c, width=w, style=st), pg.mkPen(c, width=1, style=st)) for k, (c, w, st) in looks.items()}
        curves = RunCurves(
            key, name, series, color,
            raw=_step_curve(self.loss_plot, pens["raw"][0]) if show_raw else None,
            smooth=_step_curve(self.loss_plot, pens["smooth"][0]),
            val=_curve(self.loss_plot, pens["val"][0], "o", color),
            metric=_curve(self.metric_plot, pens["metric"][0], "o", color),
            lr=_step_curve(self.lr_plot, pens["lr"][0]),
        )
        for part in ("raw", "smooth", "val", "metric", "lr"):
            item = getattr(curves, part)
            if item is not None:
                curves.pens.append((item, *pens[part]))
        for item, column in curves.step_curves():
            item.full_bounds = lambda ax, c=curves, col=column: self._full_bounds(c, col, ax)
        self.runs[key] = curves
        self.legend.addItem(curves.smooth, name)
        if live:
            self.live_key = key
        self._choose_metric()
        self._update_live_view()
        if self._live_view:  # (a run added while another trains is drawn thin as well)
            for item, _normal, thin in curves.pens:
                item.setPen(thin)
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
        self._pending.discard(key)
        if self.live_key == key:
            self.live_key = None
        self._choose_metric()
        self._update_live_view()

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

    def request_refresh(self, key: str | None = None, newest_time: float = math.nan) -> None:
        """Refresh a run (None: all) at the next frame: now if the last one is FRAME_INTERVAL_MS
        old, else when it will be. The training panel calls this after every drain; frames at
        ~10 Hz rather than at every drain leave the GIL to the training thread."""
        self._pending.add(key)
        if not math.isnan(newest_time):
            self._pending_time = newest_time
        self._frames.request()

    def _flush(self) -> None:
        if not self._pending:
            return
        keys = None if None in self._pending else [k for k in self._pending if k is not None]
        newest, self._pending_time = self._pending_time, math.nan
        self.refresh(keys, newest_time=newest)

    def refresh(self, keys: list[str] | None = None, newest_time: float = math.nan, force: bool = False) -> int:
        """Push new points of the given runs (default: all) to their curves now; returns new step points."""
        if keys is None:
            self._pending.clear()
        else:
            self._pending.difference_update(keys)
        self._frames.mark_run(waiting=bool(self._pending))
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
            e = s.epoch_count()
            new_epoch = e != curves.drawn_epochs
            before = curves.drawn_steps
            steps_changed = force or n != before
            if steps_changed:
                curves.drawn_steps = n
                for item, column in curves.step_curves():
                    if column != "lr":
                        self._push_steps(curves, item, column, force)
                added += max(0, n - before)
                if key == self.live_key:
                    self._newest_step_drawn = s.last_step()
            # The rate curve only when the rate moved or an epoch ended: a constant rate's line
            # then trails the loss by at most an epoch, and costs nothing at the other frames.
            if force or new_epoch or (steps_changed and self._lr_moved(curves, before, n)):
                self._push_steps(curves, curves.lr, "lr", force)
                lr_changed = True
            if force or new_epoch:
                ex = s.epoch_x_values(self.x_mode)
                curves.val.setData(ex, s.val_loss.view())
                metric = s.metrics.get(self.metric_name or "")
                curves.metric.setData(ex, metric.view() if metric is not None else np.full(len(ex), np.nan))
                curves.drawn_epochs = e
                curves.extra.pop("epoch_bounds", None)
        self._update_live_view()
        if self._live_view:
            self._manage_ranges()
        elif lr_changed or force:
            self._fit_lr_axis()
        if added:
            self.points_appended.emit(added, newest_time)
        return added

    @staticmethod
    def _lr_moved(curves: RunCurves, before: int, n: int) -> bool:
        """Whether the steps [before, n) used another rate than the last one drawn."""
        lr = curves.series.lr.view()
        drawn = curves.extra.get("lr_drawn")
        new = lr[before:n]
        return drawn is None or not bool(np.all(new == drawn))  # (NaN != NaN: redrawn, as it should)

    def _budget(self, plot: pg.PlotItem) -> int:
        return max(MIN_POINTS, int(POINTS_PER_PIXEL * plot.getViewBox().width()))

    def _push_steps(self, curves: RunCurves, item: _StepCurve, column: str, force: bool) -> None:
        """Give one step curve the level of detail of its plot's x range (skipped if unchanged)."""
        s = curves.series
        n = curves.drawn_steps
        plot = self.lr_plot if column == "lr" else self.loss_plot
        box = plot.getViewBox()
        x = s.step_x(self.x_mode)
        y = getattr(s, column).view()
        pyramid = s.pyramid(column)
        pyramid.update()  # (also keeps the bounds that auto-ranging and the still view read)
        if box.autoRangeEnabled()[0]:
            i0, i1 = 0, n  # the view is about to show all of it
        else:
            left, right = box.viewRange()[0]
            i0, i1 = visible_range(x, n, left, right, s.x_sorted(self.x_mode))
        xs, ys, choice = decimate(x, y, pyramid, n, i0, i1, self._budget(plot))
        key = (self.x_mode, s.x_version(self.x_mode), getattr(s, column).version, *choice)
        if not force and curves.lod.get(id(item)) == key:
            return
        curves.lod[id(item)] = key
        item.setData(xs, ys)
        if column == "lr" and n:
            curves.extra["lr_drawn"] = float(y[n - 1])

    def _view_changed(self, plot: pg.PlotItem) -> None:
        """The x range or size of a plot changed: its step curves get the points of the new view."""
        if self._relod_busy:
            return
        self._relod_busy = True
        try:
            for curves in self.runs.values():
                for item, column in curves.step_curves():
                    if (plot is self.lr_plot) == (column == "lr"):
                        self._push_steps(curves, item, column, force=False)
        finally:
            self._relod_busy = False

    def _full_bounds(self, curves: RunCurves, column: str, ax: int) -> tuple[float, float] | None:
        """The whole drawn run's bounds on one axis (for auto-ranging), without scanning it."""
        s = curves.series
        n = curves.drawn_steps
        if n == 0:
            return None
        if ax == 1:
            return s.pyramid(column).bounds()
        x = s.step_x(self.x_mode)[:n]
        if s.x_sorted(self.x_mode):
            return float(x[0]), float(x[-1])
        finite = x[np.isfinite(x)]
        return (float(finite.min()), float(finite.max())) if len(finite) else None

    def _fit_lr_axis(self) -> None:
        """A constant learning rate would sit on an axis of ±0.5 around it: show 0 … 1.25 × lr."""
        ranges = [b for c in self.runs.values() if c.drawn_steps and (b := c.series.pyramid("lr").bounds())]
        if not ranges:
            return
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        box = self.lr_plot.getViewBox()
        if hi > 0 and hi - lo <= 1e-6 * hi:
            box.enableAutoRange(axis=pg.ViewBox.YAxis, enable=False)
            box.setYRange(0.0, hi * 1.25, padding=0)
        elif not box.autoRangeEnabled()[1]:
            box.enableAutoRange(axis=pg.ViewBox.YAxis, enable=True)

    # ----- the still view while a run trains ---------------------------------------------------

    def _update_live_view(self) -> None:
        """Enter the still view when a live run starts, leave it when the run has an outcome."""
        live = self.live()
        want = live is not None and live.series.status is None
        if want == self._live_view:
            return
        self._live_view = want
        for curves in self.runs.values():
            for item, normal, thin in curves.pens:
                item.setPen(thin if want else normal)
        if want:
            self._user_x = False
            self._managed_x = None
            self._managed_y.clear()
            for plot in self.plots():
                plot.disableAutoRange()
        else:
            self._auto_range()
            self._fit_lr_axis()

    def _auto_range(self) -> None:
        """Auto-range x on the loss plot (the others follow it through the x link: auto-ranging
        x on them too would make each push its own data's x range to the others) and y on all."""
        self.loss_plot.enableAutoRange()
        for plot in (self.metric_plot, self.lr_plot):
            plot.enableAutoRange(axis=pg.ViewBox.YAxis)

    def _moved_by_hand(self, _mask: object) -> None:
        if self._live_view:
            self._user_x = True  # (y is not mouse-enabled: the plot keeps growing it)

    def _auto_clicked(self) -> None:
        """The "A" button during a run: back to the still view (the plot's handler has just
        switched auto-ranging on, which would re-range at every frame)."""
        if not self._live_view:
            return
        self._user_x = False
        self._managed_x = None
        self._managed_y.clear()
        for plot in self.plots():
            plot.disableAutoRange()
        self._manage_ranges()

    def _x_extent(self) -> tuple[float | None, float | None]:
        """(planned right end of the live run or None, last x drawn of any run or None)."""
        last = None
        for curves in self.runs.values():
            n = curves.drawn_steps
            if n:
                x = curves.series.step_x(self.x_mode)
                value = float(x[n - 1]) if curves.series.x_sorted(self.x_mode) else float(np.nanmax(x[:n]))
                if math.isfinite(value):
                    last = value if last is None else max(last, value)
        live = self.live()
        if live is None:
            return None, last
        s = live.series
        steps = s.planned_steps()
        if self.x_mode == "step":
            planned = float(steps) if steps else None
        elif self.x_mode == "epoch":
            planned = float(s.epochs_planned) if s.epochs_planned else None
        else:  # time: the run's time so far, scaled to its planned steps (an estimate)
            planned = None
            n = live.drawn_steps
            if steps and n:
                done, at = s.step.view()[n - 1], s.time.view()[n - 1]
                if done > 0 and math.isfinite(at) and at > 0:
                    planned = float(at) * steps / float(done) * 1.1
        return planned, last

    def _manage_ranges(self) -> None:
        """Set the still view's ranges, only where they must change (a range change redraws axes)."""
        if not self._user_x:
            planned, last = self._x_extent()
            current = self._managed_x
            target = None
            if planned is not None and self.x_mode != "time" and (last is None or last <= planned):
                target = (0.0, planned)
                if target == current:
                    target = None
            elif last is not None and (current is None or last > current[1]):
                # Unknown or estimated end: leave room to grow into, so this rarely repeats.
                target = (0.0, max(planned or 0.0, last * 1.5, 1e-9))
            elif current is None and planned is not None:
                target = (0.0, planned)
            if target is not None:
                self._managed_x = target
                self.loss_plot.setXRange(*target, padding=0.02)
        for plot in self.plots():
            bounds = self._y_bounds(plot)
            if bounds is None:
                continue
            lo, hi = bounds
            current = self._managed_y.get(id(plot))
            if plot is self.lr_plot:
                lo = min(lo, 0.0)  # rates are positive: from 0, as after the run
            if current is not None and current[0] <= lo and hi <= current[1]:
                continue
            if current is None:
                margin = max((hi - lo) * Y_MARGIN, 0.1 * max(abs(lo), abs(hi)), 1e-12)
                target = (lo if plot is self.lr_plot else lo - margin,
                          hi + max(0.25 * abs(hi), margin) if plot is self.lr_plot else hi + margin)
            else:
                # Grow only the side that was left, by a share of the view as well as of the data,
                # so that a steadily falling loss moves the axis a few times per run, not per step.
                grow = Y_MARGIN * max(hi - lo, current[1] - current[0])
                target = (current[0] if lo >= current[0] else lo - (0.0 if plot is self.lr_plot and lo == 0 else grow),
                          current[1] if hi <= current[1] else hi + grow)
            self._managed_y[id(plot)] = target
            plot.setYRange(*target, padding=0)

    def _y_bounds(self, plot: pg.PlotItem) -> tuple[float, float] | None:
        """The finite y bounds of everything on a plot, from the pyramids and the epoch columns."""
        found: list[tuple[float, float]] = []
        for curves in self.runs.values():
            s = curves.series
            if plot is self.metric_plot:
                found += self._epoch_bounds(curves, "metric")
            elif curves.drawn_steps:
                columns = ["lr"] if plot is self.lr_plot else ["loss" if curves.raw is not None else "smooth"]
                found += [b for b in (s.pyramid(c).bounds() for c in columns) if b is not None]
                if plot is self.loss_plot:
                    found += self._epoch_bounds(curves, "val")
        if not found:
            return None
        return min(b[0] for b in found), max(b[1] for b in found)

    def _epoch_bounds(self, curves: RunCurves, which: str) -> list[tuple[float, float]]:
        """Bounds of the validation loss or metric points drawn (cached until the next epoch)."""
        cache = curves.extra.setdefault("epoch_bounds", {})
        key = (which, self.metric_name)
        if key not in cache:
            s = curves.series
            column = s.val_loss if which == "val" else s.metrics.get(self.metric_name or "")
            values = column.view()[: curves.drawn_epochs] if column is not None else np.empty(0)
            values = values[np.isfinite(values)]
            cache[key] = [(float(values.min()), float(values.max()))] if len(values) else []
        return cache[key]

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
        if self._live_view:  # the still view, in the new unit
            self._user_x = False
            self._managed_x = None
            self._managed_y.clear()
        else:
            self._auto_range()
        self.refresh(force=True)
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
        """(x, loss) of every step the run's loss curve has been given so far, at full resolution
        (the live run by default; the curve itself holds only the level of detail in view)."""
        curves = self.runs.get(key or self.live_key or "") or (next(iter(self.runs.values()), None))
        if curves is None:
            return np.empty(0), np.empty(0)
        s, n = curves.series, curves.drawn_steps
        y = s.loss if curves.raw is not None else s.smooth
        return s.step_x(self.x_mode)[:n], y.view()[:n]  # views: callers poll this per frame

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
