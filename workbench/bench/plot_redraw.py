"""Redrawing the loss plot when it holds a million points (offscreen Qt, raster painting).

    python -m workbench.bench.plot_redraw

One redraw is what the app does at each refresh while training: one more step appended, the
curves' `setData` (pyqtgraph peak downsampling + clip to view, auto-ranged over all points), a
forced synchronous repaint of the plot, and the events that follow it. Timed per redraw, median.

- `plot_redraw_ms_1e6`: the app's live training plot (`workbench.gui.training.plots.LivePlot`,
  three plots side by side: raw + smoothed loss, validation metric, learning rate; 1,000,000
  steps in 1,000 epochs), 1200×360 pixels. Without that module (an older checkout) it falls back
  to the bare PlotWidget below.
- `plot_redraw_ms_1e6_plotwidget`: one `pg.PlotWidget` curve of 1,000,000 points, 1200×360.
- `plot_repaint_ms_1e6`: the live plot repainted with no new data.
- `series_append_us_per_step`: filling the run's `RunSeries` (what every drained step costs the GUI thread).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from workbench.bench.common import median, qt_app, run_alone

POINTS = 1_000_000
SIZE = (1200, 360)


def _loss_curve(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = np.arange(1, n + 1, dtype=np.float64)
    return x, 2.3 * np.exp(-x / 2e5) + 0.05 + 0.1 * rng.random(n)


def _time(step: Callable[[int], None], repaint: Callable[[], None], app: Any, repeats: int,
          budget_s: float = 5.0) -> list[float]:
    """Seconds per redraw, `repeats` of them, or fewer (at least 3) once `budget_s` is spent."""
    step(0)  # warm-up: the first paint builds caches and fonts
    repaint()
    app.processEvents()
    times: list[float] = []
    start = time.perf_counter()
    for i in range(repeats):
        t = time.perf_counter()
        step(1 + i)
        repaint()
        app.processEvents()
        times.append(time.perf_counter() - t)
        if len(times) >= 3 and time.perf_counter() - start > budget_s:
            break
    return times


def plotwidget_redraw(repeats: int, points: int = POINTS, budget_s: float = 5.0) -> dict[str, float]:
    import pyqtgraph as pg

    app = qt_app()
    widget = pg.PlotWidget()
    widget.resize(*SIZE)
    widget.show()
    x, y = _loss_curve(points + 128)
    curve = widget.plot(x[:points], y[:points])
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    app.processEvents()

    def append(i: int) -> None:
        curve.setData(x[: points + i + 1], y[: points + i + 1])

    times = _time(append, widget.viewport().repaint, app, repeats, budget_s)
    widget.close()
    widget.deleteLater()
    app.processEvents()
    return {"plot_redraw_ms_1e6_plotwidget": median(times) * 1e3}


def live_plot_redraw(repeats: int, points: int = POINTS, budget_s: float = 5.0) -> dict[str, float] | None:
    try:
        from workbench.gui.training.plots import LivePlot, run_color
        from workbench.gui.training.series import RunSeries
    except ImportError:
        return None
    app = qt_app()
    series = RunSeries()
    per_epoch = 1000
    series.set_steps_per_epoch(per_epoch)
    _, loss = _loss_curve(points + 128)
    t = time.perf_counter()
    for i in range(points):
        step = i + 1
        epoch = i // per_epoch + 1
        series.add_step(step, epoch, float(loss[i]), 1e-3, 30000.0, step * 1e-3)
        if step % per_epoch == 0:
            series.add_epoch(epoch, float(loss[i]), float(loss[i]) + 0.02, {"val_accuracy": 0.9}, step * 1e-3)
    append_us = (time.perf_counter() - t) / points * 1e6
    plot = LivePlot()
    plot.resize(*SIZE)
    plot.show()
    plot.add_run("bench", "bench", series, run_color(0), live=True)
    app.processEvents()
    if plot.step_count() != points:
        raise RuntimeError(f"the live plot holds {plot.step_count()} points, expected {points}")
    viewport = plot.graphics.viewport()

    def append(i: int) -> None:
        step = points + i + 1
        series.add_step(step, math.ceil(step / per_epoch), float(loss[points + i]), 1e-3, 30000.0, step * 1e-3)
        plot.refresh()

    redraw = _time(append, viewport.repaint, app, repeats, budget_s)
    repaint = _time(lambda _i: None, viewport.repaint, app, repeats, budget_s)
    plot.close()
    plot.deleteLater()
    app.processEvents()
    return {"plot_redraw_ms_1e6": median(redraw) * 1e3, "plot_repaint_ms_1e6": median(repaint) * 1e3,
            "series_append_us_per_step": append_us}


def measure(quick: bool = False, smoke: bool = False) -> dict[str, float]:
    from workbench.bench.common import none_refs_lost_per_void_call

    repeats = 3 if smoke else 15 if quick else 50
    points = 10_000 if smoke else POINTS  # smoke: the code path only, the numbers mean nothing
    budget_s = 2.0 if quick or smoke else 10.0  # per series of redraws, once 3 are timed
    qt_app()
    out = {"qt_none_refs_lost_per_void_call": none_refs_lost_per_void_call()}
    out.update(plotwidget_redraw(repeats, points, budget_s))
    live = live_plot_redraw(repeats, points, budget_s)
    if live is not None:
        out.update(live)
    else:
        out["plot_redraw_ms_1e6"] = out["plot_redraw_ms_1e6_plotwidget"]
    return out


if __name__ == "__main__":
    run_alone("plot_redraw", __doc__.splitlines()[0])
