"""The Search view's plots: objectives scatter with the Pareto front, parallel coordinates of the
searched values, and parameter importances. Each is redrawn from a StudySnapshot."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor

from workbench.gui import theme
from workbench.tuning.space import Dimension
from workbench.tuning.study import StudySnapshot, TrialRecord

FRONT_COLOR = "#dd6b20"
TRIAL_COLOR = "#2b6cb0"
PRUNED_COLOR = "#a0aec0"


def objective_label(snapshot: StudySnapshot, index: int) -> str:
    objective = snapshot.objectives[index]
    return f"{objective.name} {'↑' if objective.direction == 'maximize' else '↓'}"


def _plot_widget() -> pg.PlotWidget:
    c = theme.colors()
    widget = pg.PlotWidget(background=c.background)
    for name in ("left", "bottom"):
        axis = widget.getPlotItem().getAxis(name)
        axis.setPen(pg.mkPen(c.text_dim))
        axis.setTextPen(pg.mkPen(c.text_dim))
    widget.getPlotItem().setMenuEnabled(False)
    return widget


class ObjectivesScatter:
    """Complete trials by two objectives (one objective: by trial number); the front in orange,
    joined by a line; a click selects a trial."""

    def __init__(self) -> None:
        self.widget = _plot_widget()
        self.widget.getPlotItem().showGrid(x=True, y=True, alpha=0.2)
        self.points = pg.ScatterPlotItem(size=9, pen=pg.mkPen("w", width=0.5), brush=pg.mkBrush(TRIAL_COLOR))
        self.front_line = pg.PlotCurveItem(pen=pg.mkPen(FRONT_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
        self.front = pg.ScatterPlotItem(size=13, pen=pg.mkPen("w", width=1), brush=pg.mkBrush(FRONT_COLOR),
                                        symbol="star")
        self.selected = pg.ScatterPlotItem(size=20, pen=pg.mkPen(theme.colors().text, width=2), brush=None)
        for item in (self.front_line, self.points, self.front, self.selected):
            self.widget.addItem(item)
        self.points.sigClicked.connect(self._clicked)
        self.front.sigClicked.connect(self._clicked)
        self.clicked = _Relay()
        self._xy: dict[int, tuple[float, float]] = {}

    def show(self, snapshot: StudySnapshot) -> None:
        done = [t for t in snapshot.trials if t.state == "COMPLETE" and t.values]
        two = len(snapshot.objectives) > 1
        self._xy = {t.number: ((t.values[0], t.values[1]) if two else (t.number, t.values[0])) for t in done}
        item = self.widget.getPlotItem()
        item.setLabel("bottom", objective_label(snapshot, 0) if two else "trial")
        item.setLabel("left", objective_label(snapshot, 1) if two else objective_label(snapshot, 0))
        rest = [n for n in self._xy if n not in snapshot.front]
        self.points.setData([self._spot(n) for n in rest])
        front = sorted((self._xy[n] for n in snapshot.front if n in self._xy))
        self.front.setData([self._spot(n) for n in snapshot.front if n in self._xy])
        if two and len(front) > 1:
            xs, ys = zip(*front)
            self.front_line.setData(np.array(xs, dtype=float), np.array(ys, dtype=float))
        else:
            self.front_line.setData([], [])

    def select(self, number: int | None) -> None:
        xy = self._xy.get(number) if number is not None else None
        self.selected.setData([{"pos": xy}] if xy else [])

    def _spot(self, number: int) -> dict[str, Any]:
        return {"pos": self._xy[number], "data": number}

    def _clicked(self, _item: Any, spots: Any, *args: Any) -> None:
        if len(spots):
            self.clicked.trial.emit(int(spots[0].data()))


class ParallelCoordinates:
    """One vertical axis per searched name (values scaled to its range; lists by position) and
    the first objective last; a line per complete trial, coloured by that objective (darker is
    better), the front's lines thicker."""

    def __init__(self) -> None:
        self.widget = _plot_widget()
        self.widget.getPlotItem().hideAxis("left")
        self.widget.getPlotItem().hideAxis("bottom")  # names are staggered above and below instead
        self.widget.setMouseEnabled(x=False, y=False)
        self._items: list[Any] = []

    def show(self, snapshot: StudySnapshot, dimensions: tuple[Dimension, ...]) -> None:
        plot = self.widget.getPlotItem()
        for item in self._items:
            plot.removeItem(item)
        self._items = []
        done = [t for t in snapshot.trials if t.state == "COMPLETE" and t.values]
        names = [d.name for d in dimensions] + [objective_label(snapshot, 0)]
        c = theme.colors()
        for i, name in enumerate(names):
            line = pg.InfiniteLine(pos=i, angle=90, pen=pg.mkPen(c.text_dim, width=1))
            # Long names side by side would overlap: every other one goes above the axes.
            below = i % 2 == 0
            label = pg.TextItem(_short(name), color=c.text, anchor=(0.5, 0.0 if below else 1.0))
            label.setPos(i, -0.03 if below else 1.03)
            for item in (line, label):
                plot.addItem(item)
                self._items.append(item)
        if not done:
            return
        scores = [t.values[0] for t in done]
        low, high = min(scores), max(scores)
        better_high = snapshot.objectives[0].direction == "maximize"
        for trial in sorted(done, key=lambda t: t.number in snapshot.front):
            ys = [_scaled(d, trial.params.get(d.name)) for d in dimensions]
            share = 0.5 if high == low else (trial.values[0] - low) / (high - low)
            ys.append(share)
            quality = share if better_high else 1 - share
            color = _blend(QColor("#cbd5e0"), QColor(TRIAL_COLOR), quality)
            on_front = trial.number in snapshot.front
            pen = pg.mkPen(FRONT_COLOR if on_front else color, width=2.5 if on_front else 1.2)
            curve = pg.PlotCurveItem(np.arange(len(ys), dtype=float), np.array(ys, dtype=float), pen=pen)
            plot.addItem(curve)
            self._items.append(curve)
        plot.setXRange(-0.6, len(names) - 0.4, padding=0)
        plot.setYRange(-0.14, 1.14, padding=0)


class ImportanceBars:
    """Each searched name's importance for the first objective (optuna.importance)."""

    def __init__(self) -> None:
        self.widget = _plot_widget()
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)
        self.bars: pg.BarGraphItem | None = None
        self.note = pg.TextItem(color=theme.colors().text_dim, anchor=(0.5, 0.5))
        self.widget.addItem(self.note)

    def show(self, snapshot: StudySnapshot, waiting_text: str) -> None:
        plot = self.widget.getPlotItem()
        if self.bars is not None:
            plot.removeItem(self.bars)
            self.bars = None
        items = sorted(snapshot.importances.items(), key=lambda kv: kv[1])
        if not items:
            self.note.setText(waiting_text)
            self.note.setPos(0.5, 0.5)
            plot.getAxis("left").setTicks([[]])
            plot.setXRange(0, 1)
            plot.setYRange(0, 1)
            return
        self.note.setText("")
        ys = np.arange(len(items), dtype=float)
        widths = np.array([v for _, v in items], dtype=float)
        if widths.sum() > 0:
            widths = widths / widths.sum()  # shares of the whole, whatever the evaluator's scale
        self.bars = pg.BarGraphItem(x0=0, y=ys, height=0.6, width=widths, brush=pg.mkBrush(TRIAL_COLOR), pen=None)
        plot.addItem(self.bars)
        plot.getAxis("left").setTicks([[(i, _short(n)) for i, (n, _) in enumerate(items)]])
        plot.setLabel("bottom", f"share of {objective_label(snapshot, 0)}")
        plot.setXRange(0, max(widths.max(), 1e-9) * 1.05)
        plot.setYRange(-0.6, len(items) - 0.4)


class _Relay(pg.QtCore.QObject):
    """A signal for a plot that is not itself a QObject."""

    trial = Signal(int)


def _scaled(dimension: Dimension, value: Any) -> float:
    """A value's place on its axis, from 0 to 1."""
    if value is None:
        return math.nan
    if dimension.kind == "choice":
        choices = list(dimension.choices)
        index = choices.index(value) if value in choices else 0
        return index / max(1, len(choices) - 1)
    low, high, v = float(dimension.low), float(dimension.high), float(value)
    if dimension.log:
        low, high, v = math.log(low), math.log(high), math.log(max(v, 1e-300))
    return 0.5 if high == low else (v - low) / (high - low)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    t = min(1.0, max(0.0, t))
    return QColor(int(a.red() + (b.red() - a.red()) * t), int(a.green() + (b.green() - a.green()) * t),
                  int(a.blue() + (b.blue() - a.blue()) * t))


def _short(name: str) -> str:
    return name if len(name) <= 18 else name[:17] + "…"


def trial_values_text(trial: TrialRecord) -> str:
    """`lr=0.003 batch_size=64`: a trial's values on one line."""
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
