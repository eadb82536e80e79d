"""The live plot stays cheap however long the run: level of detail from the run's min/max pyramid,
a still view while training (x = the planned steps, y grows only when a point leaves it),
frames at ~10 Hz, the learning-rate curve left alone while the rate holds, and a progress line
that changes a few times a second without re-laying out its dock.

No timing asserts: each test checks what the plot was given (points, ranges, calls)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject

from workbench.gui import throttle as throttle_module
from workbench.gui.training import plots as plots_module
from workbench.gui.training import progress as progress_module
from workbench.gui.training.level_of_detail import PYRAMID_BASE, GrowingArray, MinMaxPyramid, decimate, visible_range
from workbench.gui.training.series import RunSeries

N = 1_000_000
PER_EPOCH = 1000


class FakeClock:
    """Stands in for `time` in a module, so that throttling is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def plot(qtbot) -> Iterator[plots_module.LivePlot]:  # noqa: ANN001
    from workbench.gui.app import ensure_app

    ensure_app()
    widget = plots_module.LivePlot()
    widget.resize(1200, 360)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()
    widget.deleteLater()


def _big_series(n: int = N, lr: np.ndarray | None = None) -> RunSeries:
    steps = np.arange(1, n + 1)
    loss = 2.0 * np.exp(-steps / 2e5) + np.random.default_rng(0).random(n) * 0.1
    loss[n // 2] = 7.5  # one spike: it must survive the decimation
    series = RunSeries()
    series.set_steps_per_epoch(PER_EPOCH)
    series.add_steps(steps, 1 + (steps - 1) // PER_EPOCH, loss, np.full(n, 1e-3) if lr is None else lr,
                     np.full(n, 1e3), steps * 1e-3)
    return series


def _held(item) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    x, y = item.getOriginalDataset()
    return (np.empty(0), np.empty(0)) if x is None else (np.asarray(x), np.asarray(y))


# ----- the series: pyramid and decimation (no Qt) -----------------------------------------------


def test_pyramid_grown_piece_by_piece_equals_the_buckets_computed_at_once() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=5000)
    values[[3, 700, 701, 4000]] = [np.nan, np.inf, -np.inf, np.nan]
    values[1600:1616] = np.nan  # two whole finest buckets of NaN: gaps, not zeros
    column = GrowingArray()
    pyramid = MinMaxPyramid(column)
    start = 0
    for size in (1, 7, 8, 100, 3, 1500, 3381):  # uneven pieces, as drains bring them
        column.extend(values[start:start + size])
        start += size
        pyramid.update()
    assert start == len(values)
    clean = np.where(np.isfinite(values), values, np.nan)
    for level, (mins, maxs) in enumerate(pyramid.levels):
        size = pyramid.bucket(level)
        whole = len(values) // size
        blocks = clean[: whole * size].reshape(whole, size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN buckets: NaN, as expected
            expect_min, expect_max = np.nanmin(blocks, axis=1), np.nanmax(blocks, axis=1)
        np.testing.assert_array_equal(mins.view(), expect_min)
        np.testing.assert_array_equal(maxs.view(), expect_max)
    assert np.isnan(pyramid.levels[0][0].view()[200])  # the NaN bucket: a gap
    assert len(pyramid.levels) == int(np.log2(len(values) // PYRAMID_BASE)) + 1  # up to one top bucket
    assert pyramid.bounds() == (np.nanmin(clean), np.nanmax(clean))


def test_decimate_is_exact_when_the_view_is_small_and_keeps_every_peak_when_not() -> None:
    series = _big_series()
    x, y = series.step.view(), series.loss.view()
    pyramid = series.pyramid("loss")
    # Zoomed out: at most the budget, with the run's extremes and its first and last x.
    xs, ys, _ = decimate(x, y, pyramid, N, 0, N, budget=1000)
    assert 500 <= len(xs) <= 1000
    assert ys.max() == y.max() == 7.5 and ys.min() == y.min()
    assert xs[0] == 1 and xs[-1] == N and np.all(np.diff(xs) >= 0)
    # Zoomed in: every point of the view, one either side.
    i0, i1 = visible_range(x, N, 400_000.5, 400_500.0, True)
    xs, ys, _ = decimate(x, y, pyramid, N, i0, i1, budget=1000)
    np.testing.assert_array_equal(xs, x[399_999:400_501])
    np.testing.assert_array_equal(ys, y[399_999:400_501])
    # The newest, not yet complete bucket comes from the raw values: a new extreme shows at once.
    series.add_step(N + 1, N // PER_EPOCH + 1, 9.0, 1e-3, 1e3, 1.0)
    xs, ys, _ = decimate(series.step.view(), series.loss.view(), pyramid, N + 1, 0, N + 1, budget=1000)
    assert ys.max() == 9.0 and xs[-1] == N + 1


def test_a_new_smoothing_rebuilds_the_pyramid_of_the_smoothed_loss() -> None:
    series = _big_series(20_000)
    before = series.pyramid("smooth").bounds()
    series.set_smoothing(0.0)  # the smoothed loss is the raw loss now
    assert series.pyramid("smooth").bounds() == series.pyramid("loss").bounds() != before


# ----- the plot: what the curves receive ---------------------------------------------------------


def test_a_million_step_run_reaches_the_curves_as_a_thousand_points_and_zoomed_in_as_every_step(plot) -> None:  # noqa: ANN001
    series = _big_series()
    series.set_plan(1500)
    plot.add_run("big", "big", series, "#d62728", live=True)
    curves = plot.runs["big"]
    budget = max(plots_module.MIN_POINTS, plots_module.POINTS_PER_PIXEL * int(plot.loss_plot.getViewBox().width()))
    for item in (curves.raw, curves.smooth, curves.lr):
        x, y = _held(item)
        assert 0 < len(x) <= budget
    x, y = _held(curves.raw)
    assert y.max() == 7.5 and x[-1] == N  # the spike and the newest step are on screen
    assert plot.step_count() == N  # the full-resolution data stays readable
    # One more step: the curves get it (and still no more than the budget).
    series.add_step(N + 1, 1001, 0.25, 1e-3, 1e3, 1.0)
    assert plot.refresh() == 1
    x, _ = _held(curves.raw)
    assert x[-1] == N + 1 and len(x) <= budget
    # Zoomed in (as a drag would): the exact points of the view.
    plot.loss_plot.setXRange(250_000, 250_400, padding=0)
    x, y = _held(curves.raw)
    assert x[0] == 249_999 and x[-1] == 250_401
    np.testing.assert_array_equal(y, series.loss.view()[249_998:250_401])
    np.testing.assert_array_equal(_held(curves.smooth)[1], series.smooth.view()[249_998:250_401])
    # Auto-ranging still sees the whole run, not the part held.
    assert curves.raw.dataBounds(0) == (1.0, float(N + 1))
    assert curves.raw.dataBounds(1)[1] == 7.5


def test_while_training_the_view_holds_still_and_afterwards_auto_ranges(plot) -> None:  # noqa: ANN001
    series = RunSeries()
    series.set_steps_per_epoch(50)
    series.set_plan(4)  # 200 planned steps
    plot.add_run("live", "live", series, "#1f77b4", live=True)
    box = plot.loss_plot.getViewBox()
    assert not any(box.autoRangeEnabled()) and not any(plot.lr_plot.getViewBox().autoRangeEnabled())
    assert plot.runs["live"].smooth.opts["pen"].widthF() <= 1.0  # thin pens while training
    loss = 2.0 - np.linspace(0, 1, 120)
    y_changes = 0
    last_y = None
    for step in range(1, 121):
        series.add_step(step, 1 + (step - 1) // 50, float(loss[step - 1]), 1e-3, 100.0, step * 0.01)
        if step % 50 == 0:
            series.add_epoch(step // 50, 1.5, 1.4, {"val_accuracy": 0.5 + step / 1000}, step * 0.01)
        plot.refresh()
        (left, right), y_range = box.viewRange()
        # x spans the planned steps (plus pyqtgraph's 2 % padding) from the first refresh on.
        assert left == pytest.approx(-4.0) and right == pytest.approx(204.0)
        assert y_range[0] <= loss[:step].min() and loss[:step].max() <= y_range[1]
        y_changes += y_range != last_y
        last_y = y_range
    assert y_changes <= 12  # grown with a margin, not at every point
    lr_low, lr_high = plot.lr_plot.getViewBox().viewRange()[1]
    assert lr_low == 0.0 and lr_high >= 1.25e-3
    # The run ends: the plots auto-range and the curves get their own widths back.
    series.status = "finished"
    plot.refresh()
    # (the metric and rate plots' x follows the loss plot's through the link; a constant rate
    # keeps its axis from 0 to 1.25 × the rate, as it always had)
    assert all(box.autoRangeEnabled()) and plot.metric_plot.getViewBox().autoRangeEnabled()[1]
    assert plot.lr_plot.getViewBox().viewRange()[1] == pytest.approx([0.0, 1.25e-3])
    assert plot.runs["live"].smooth.opts["pen"].widthF() == 2.0
    box.autoRange()
    assert box.viewRange()[0][1] < 150  # fits the 120 steps done, not the 200 planned


def test_the_user_can_zoom_during_a_run_and_the_auto_button_brings_the_still_view_back(plot) -> None:  # noqa: ANN001
    series = _big_series(10_000)
    series.set_plan(20)  # 20,000 planned steps
    plot.add_run("live", "live", series, "#1f77b4", live=True)
    box = plot.loss_plot.getViewBox()
    assert box.viewRange()[0][1] == pytest.approx(20_400)
    box.setXRange(100, 300, padding=0)
    box.sigRangeChangedManually.emit([True, False])  # what a drag or the wheel reports
    series.add_step(10_001, 11, 0.3, 1e-3, 1e3, 10.0)
    plot.refresh()
    assert box.viewRange()[0] == pytest.approx([100, 300])  # left where the user put it
    assert len(_held(plot.runs["live"].raw)[0]) <= 203  # and drawn exactly there
    button = plot.loss_plot.autoBtn
    button.clicked.emit(button)  # the "A" button
    assert box.viewRange()[0][1] == pytest.approx(20_400) and not any(box.autoRangeEnabled())


def test_the_learning_rate_curve_is_not_set_again_while_the_rate_holds(plot, monkeypatch) -> None:  # noqa: ANN001
    series = _big_series(5_000)
    series.set_plan(10)
    plot.add_run("live", "live", series, "#1f77b4", live=True)
    lr_item, raw_item = plot.runs["live"].lr, plot.runs["live"].raw
    calls = {"lr": 0, "raw": 0}
    monkeypatch.setattr(lr_item, "setData", lambda *a, **k: calls.__setitem__("lr", calls["lr"] + 1))
    monkeypatch.setattr(raw_item, "setData", lambda *a, **k: calls.__setitem__("raw", calls["raw"] + 1))
    step = 5_000
    for _ in range(5):
        step += 1
        series.add_step(step, 6, 0.5, 1e-3, 1e3, step * 1e-3)  # the same rate
        plot.refresh()
    assert calls == {"lr": 0, "raw": 5}
    series.add_step(step + 1, 6, 0.5, 5e-4, 1e3, step * 1e-3)  # the schedule lowered it
    plot.refresh()
    assert calls["lr"] == 1
    series.add_step(step + 2, 6, 0.5, 5e-4, 1e3, step * 1e-3)
    plot.refresh()
    assert calls["lr"] == 1
    series.add_epoch(6, 0.5, 0.5, {"val_accuracy": 0.9}, 1.0)  # a new epoch redraws it once
    plot.refresh()
    assert calls["lr"] == 2
    plot.refresh()
    assert calls["lr"] == 2


def test_refreshes_requested_at_every_drain_reach_the_curves_at_most_every_frame_interval(plot, qtbot, monkeypatch) -> None:  # noqa: ANN001
    clock = FakeClock()
    monkeypatch.setattr(plots_module, "time", clock)
    monkeypatch.setattr(throttle_module, "time", clock)
    series = RunSeries()
    series.set_steps_per_epoch(100)
    series.set_plan(1)
    plot.add_run("live", "live", series, "#1f77b4", live=True)
    appended: list[int] = []
    plot.points_appended.connect(lambda n, _t: appended.append(n))
    interval_s = plots_module.FRAME_INTERVAL_MS / 1000
    clock.now += interval_s  # the last frame (add_run's) is a frame interval old
    step = 0
    for _ in range(3):  # three drains 30 ms apart: the first is drawn at once, the others wait
        for _ in range(4):
            step += 1
            series.add_step(step, 1, 1.0, 1e-3, 1.0, step * 0.01)
        plot.request_refresh("live", newest_time=float(step))
        clock.now += 0.03
    assert appended == [4] and plot.step_count() == 4
    assert plot._frames.timer.isActive()
    with qtbot.waitSignal(plot.points_appended, timeout=5000) as blocker:
        clock.now += interval_s
    assert blocker.args[0] == 8 and plot.step_count() == 12  # the waiting drains, in one frame
    assert not plot._frames.timer.isActive()


# ----- the progress line -------------------------------------------------------------------------


def test_progress_text_changes_a_few_times_a_second_and_never_re_lays_out_the_dock(qtbot, monkeypatch) -> None:  # noqa: ANN001
    from workbench.gui.app import ensure_app

    ensure_app()
    clock = FakeClock()
    monkeypatch.setattr(progress_module, "time", clock)
    monkeypatch.setattr(throttle_module, "time", clock)
    view = progress_module.ProgressView()
    qtbot.addWidget(view)
    view.resize(400, 120)
    view.show()
    qtbot.waitExposed(view)
    series = RunSeries()
    series.set_steps_per_epoch(100)
    meta = {"epochs": 2}
    view.begin(2)

    class LayoutRequests(QObject):
        count = 0

        def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.LayoutRequest:
                self.count += 1
            return False

    def add(step: int) -> None:
        series.add_step(step, 1, 1.0, 1e-3, 50.0 + step, step * 0.1)

    add(1)
    view.update_progress(series, meta)
    assert "step 1/200" in view.detail.text() and view.bar.value() == 1
    qtbot.wait(50)  # (the layout requests of showing the view)
    requests = LayoutRequests()
    view.installEventFilter(requests)
    for step in range(2, 10):  # drains within the interval: nothing shown yet
        add(step)
        clock.now += 0.02
        view.update_progress(series, meta)
    assert "step 1/200" in view.detail.text() and view.bar.value() == 1
    with qtbot.waitSignal(view._updates.timer.timeout, timeout=5000):
        clock.now += progress_module.PROGRESS_INTERVAL_S
    assert "step 9/200" in view.detail.text() and view.bar.value() == 9  # the newest, when due
    add(10)
    view.update_progress(series, meta, force=True)  # the run ended: at once
    assert "step 10/200" in view.detail.text()
    qtbot.wait(20)
    assert requests.count == 0  # new texts of new widths: repainted, never re-laid out
    add(11)
    clock.now += 0.01
    view.update_progress(series, meta)
    view.finish(series)  # the last numbers, not those of the last update shown
    assert "step 11/200" in view.detail.text()
