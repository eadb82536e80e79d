"""Training from the app: throughput with the live plot attached, and how responsive the window stays.

    python -m workbench.bench.gui_training [--quick]

The real main window (offscreen, 1440×900, empty settings folder), warmed up after its first
paint as `workbench` does (training modules imported, start-up's objects frozen out of the
garbage collector's full passes, then a spare training process started and, here, waited for
until it is ready), opens the digits-cnn preset
(saved to a temporary folder with the same plain settings as workbench/bench/train_throughput.py, so
runs go there) with the Curves dock shown, and `window.train()` starts each run exactly as the
Train button does: the warm training process trains it, the panel's worker object in its QThread
reads its events from the pipe, and they are drained into the live plot. After each run the
benchmark waits until the next spare is ready (as a user would find it), so its warm-up never
overlaps a measured run.
Runs alternate with the hand-written loop of train_throughput.py on the same data and settings;
then a few more runs in the app measure the event loop's lag (the 5 ms timer below wakes the GUI
thread 200 times a second and takes the GIL each time, so it stays out of the throughput runs).

- `gui_train_throughput_ratio`: the median over rounds of the app's samples/s ÷ the hand loop's
  in the same round (`paired_ratio`; the ratio of the two sides' medians is `_of_medians`).
  The app's side is the engine's own `duration_s` of the run (set-up, first checkpoint, every step,
  validation, checkpoints, the last checkpoint), measured in the training process, so any CPU
  time the app takes from it (reading its pipe, plotting, painting) counts; loading the data and
  the Results panel's evaluation after the run do not, as the hand loop has neither.
- `train_click_to_first_step_s`: from `window.train()` (the Train click) to the end of the
  first repaint of the live plot that shows a step (median over the app's runs): the click's own
  work, the job to the warm process, preparing the data and the model, the first step, the pipe,
  the drain and the plot.
- `event_loop_lag_p99_ms`, `event_loop_lag_max_ms`: a 5 ms single-shot precise QTimer on the GUI
  thread, restarted at each timeout; lateness = when it fired − when it was due. Counted for the timers
  due while the worker trains (from the first step's event to the last);
  `event_loop_lag_max_ms_whole_run` also counts the Train click itself (the GUI thread's own
  work: the memory estimate, the new curve), data loading, model building and the evaluation after
  the run.
- `step_to_plot_latency_ms_median`: for every step, from the moment its event was put in the
  worker's buffer (on the worker thread, as it comes out of the pipe) to the moment the
  live plot's `points_appended` says it is in the curve's data (setData done, repaint scheduled);
  `step_to_paint_latency_ms_median`: to the end of the first repaint that shows it.
- `gui_thread_cpu_share_while_training`: CPU seconds the GUI thread used per second of training
  (from the first refresh of the plot to the last): draining events, updating the series, the
  plot and the progress line, painting. Mostly Python, so mostly time with the GIL held.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from workbench.bench.common import alternate, median, paired_ratio, percentile, qt_app, run_alone
from workbench.bench.train_throughput import hand_loop_run, prepared_run

PRESET = "digits-cnn"
LAG_INTERVAL_MS = 5
RUN_TIMEOUT_MS = 600_000


class Probe:
    """Event-loop lateness and step→plot latencies, recorded on the GUI thread."""

    def __init__(self, panel: Any) -> None:
        from PySide6.QtCore import QObject, Qt, QTimer

        self.panel = panel
        self._holder = QObject()
        self.timer = QTimer(self._holder)
        self.timer.setSingleShot(True)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.ticks: list[tuple[float, float]] = []  # (when it was due, lateness s)
        self.step_put: dict[int, float] = {}  # step -> perf_counter when its event was put
        self.plot_latency: list[float] = []
        self.paint_latency: list[float] = []
        self.gui_cpu: list[tuple[float, float]] = []  # (wall, GUI thread CPU) at each refresh of a run
        self.cpu_shares: list[float] = []  # GUI thread CPU seconds per second, one per run
        self.clicked = 0.0  # perf_counter of this run's Train click
        self.first_in_plot: float | None = None  # perf_counter when this run's first step reached the plot's data
        self.first_shown: float | None = None  # perf_counter of the repaint after that
        self.click_to_first_step: list[float] = []  # seconds, one per run
        self._in_plot = 0  # steps already in the plot's data (this run)
        self._painted_upto = 0
        self._due = 0.0
        self._lag_run = False
        panel.run_started.connect(self._run_started)
        panel.plot.points_appended.connect(self._appended)
        panel.plot.frame_painted.connect(self._painted)

    # The lag timer runs for the whole run; which ticks count is decided afterwards.
    def start(self, with_lag_timer: bool) -> None:
        self.ticks.clear()
        self.step_put.clear()
        self.gui_cpu.clear()
        self._in_plot = 0
        self._painted_upto = 0
        self.first_in_plot = None
        self.first_shown = None
        self._lag_run = with_lag_timer
        if with_lag_timer:
            self._due = time.perf_counter() + LAG_INTERVAL_MS / 1e3
            self.timer.start(LAG_INTERVAL_MS)

    def stop(self) -> None:
        self.timer.stop()
        if self.first_shown is not None:
            self.click_to_first_step.append(self.first_shown - self.clicked)
        if len(self.gui_cpu) >= 2 and not self._lag_run:  # the timer's own wake-ups would count
            (w0, c0), (w1, c1) = self.gui_cpu[0], self.gui_cpu[-1]
            if w1 > w0:
                self.cpu_shares.append((c1 - c0) / (w1 - w0))

    def _tick(self) -> None:
        now = time.perf_counter()
        self.ticks.append((self._due, now - self._due))
        self._due = now + LAG_INTERVAL_MS / 1e3
        self.timer.start(LAG_INTERVAL_MS)

    def _run_started(self, _request: Any) -> None:
        # The worker exists, its thread not started yet: note when each step's event is put.
        buffer = self.panel.worker.buffer
        put = buffer.put
        stamps = self.step_put

        def stamped_put(item: Any) -> None:
            put(item)
            if isinstance(item, dict):  # a record from the training process
                if item.get("kind") == "step":
                    stamps[int(item["step"])] = buffer.last_put_time
            elif type(item).__name__ == "StepEvent":  # an older checkout's in-process event
                stamps[item.step] = buffer.last_put_time

        buffer.put = stamped_put

    def _appended(self, _new: int, _newest: float) -> None:
        now = time.perf_counter()
        self.gui_cpu.append((now, time.thread_time()))
        x, _ = self.panel.plot.step_data()
        if len(x) and self.first_in_plot is None:
            self.first_in_plot = now
        for s in x[self._in_plot:]:
            put = self.step_put.get(int(s))
            if put is not None:
                self.plot_latency.append(now - put)
        self._in_plot = len(x)

    def _painted(self, when: float, newest_step: int) -> None:
        if self.first_in_plot is not None and self.first_shown is None:
            self.first_shown = when  # (newest_step may still be the previous run's before this)
        for s in range(self._painted_upto + 1, newest_step + 1):
            put = self.step_put.get(s)
            if put is not None:
                self.paint_latency.append(when - put)
        self._painted_upto = max(self._painted_upto, newest_step)

    def training_window(self) -> tuple[float, float]:
        stamps = self.step_put.values()
        return (min(stamps), max(stamps)) if self.step_put else (0.0, -1.0)


def _warm_up_as_the_app_does(app: Any, window: Any) -> None:
    """What `workbench` does once its window is painted (run_app): the training modules
    imported on the GUI thread, start-up's objects frozen out of full collections, and a spare
    training process started (waited for here until it is ready)."""
    try:
        from workbench.gui.preload import warm_up_after_first_paint
    except ImportError:  # an older checkout: its app had no warm-up
        return
    finished: list[bool] = []
    warm_up_after_first_paint(window, done=lambda: finished.append(True))
    window.repaint()
    deadline = time.perf_counter() + 60
    while not finished and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    start_spare = getattr(window.training, "start_spare", None)
    if start_spare is not None:  # an older checkout trained in a thread of the app
        start_spare()
        _wait_for_spare(window.training)


def _wait_for_spare(panel: Any) -> None:
    """Until the panel's spare training process has warmed up (nothing when it has none)."""
    spare = getattr(panel, "spare", None)
    if spare is not None and not spare.wait_ready(120):
        raise RuntimeError("the spare training process did not become ready within 120 s")


def measure(quick: bool = False, smoke: bool = False) -> dict[str, float]:
    from workbench.project import save_project

    rounds, lag_runs = (1, 1) if smoke else (5, 1) if quick else (7, 3)
    old_config = os.environ.get("WORKBENCH_CONFIG_DIR")
    window = None
    with tempfile.TemporaryDirectory(prefix="wb-bench-gui-") as tmp:
        os.environ["WORKBENCH_CONFIG_DIR"] = str(Path(tmp) / "config")
        try:
            app = qt_app()
            from workbench.gui.main_window import MainWindow
            from workbench.gui.settings import Settings

            prepared = prepared_run(PRESET, 1 if smoke else None)
            project_file = Path(tmp) / f"{PRESET}.json"
            save_project(prepared.project, project_file)

            window = MainWindow(Settings(), restore_layout=False)
            window.autosave_timer.stop()
            window.resize(1440, 900)
            window.show()
            if not window.open_path_or_preset(str(project_file)):
                raise RuntimeError(f"the app could not open {project_file}")
            window.curves_dock.show()
            window.curves_dock.raise_()
            app.processEvents()
            _warm_up_as_the_app_does(app, window)
            panel = window.training
            panel.interactive = False
            probe = Probe(panel)
            lag: list[float] = []
            lag_whole: list[float] = []
            train_size, epochs = prepared.data.train_size, prepared.project.training.epochs

            def app_run(with_lag_timer: bool = False) -> float:
                probe.start(with_lag_timer)
                probe.clicked = time.perf_counter()
                if not window.train():
                    raise RuntimeError("the app refused to train: " + window.statusBar().currentMessage())
                outcome = panel.wait_for_run(RUN_TIMEOUT_MS)
                probe.stop()
                _wait_for_spare(panel)  # the next run's process, warmed up before anything else runs
                if outcome is None or not outcome.ok:
                    raise RuntimeError(f"the app's run did not finish: {outcome.message if outcome else 'timeout'}")
                first, last = probe.training_window()
                # Timers due while the worker trains: not one due during window.train() itself
                # (the click's own work on the GUI thread, before the worker starts).
                lag.extend(late for due, late in probe.ticks if first <= due <= last)
                lag_whole.extend(late for _due, late in probe.ticks)
                return train_size * epochs / float(outcome.summary["duration_s"])

            hand_loop_run(prepared)  # warm-up, as in train_throughput
            app_side, hand = alternate(app_run, lambda: hand_loop_run(prepared), rounds)
            for _ in range(lag_runs):
                app_run(with_lag_timer=True)
        finally:
            if window is not None:
                window.close()  # stops a run still going and waits for its thread
                window.deleteLater()
                app.processEvents()
            gc.unfreeze()  # the warm-up's freeze: later pieces in this process start as they would alone
            if old_config is None:
                os.environ.pop("WORKBENCH_CONFIG_DIR", None)
            else:
                os.environ["WORKBENCH_CONFIG_DIR"] = old_config
    return {
        "gui_train_throughput_ratio": paired_ratio(app_side, hand),
        "gui_train_throughput_ratio_of_medians": median(app_side) / median(hand),
        "gui_samples_per_s_cnn": median(app_side),
        "gui_hand_loop_samples_per_s_cnn": median(hand),
        "event_loop_lag_p99_ms": percentile(lag, 99) * 1e3,
        "event_loop_lag_max_ms": max(lag) * 1e3,
        "event_loop_lag_median_ms": median(lag) * 1e3,
        "event_loop_lag_max_ms_whole_run": max(lag_whole) * 1e3,
        "step_to_plot_latency_ms_median": median(probe.plot_latency) * 1e3,
        "step_to_plot_latency_ms_p99": percentile(probe.plot_latency, 99) * 1e3,
        "step_to_paint_latency_ms_median": median(probe.paint_latency) * 1e3 if probe.paint_latency else float("nan"),
        "gui_thread_cpu_share_while_training": median(probe.cpu_shares) if probe.cpu_shares else float("nan"),
        "train_click_to_first_step_s": median(probe.click_to_first_step) if probe.click_to_first_step else float("nan"),
    }


if __name__ == "__main__":
    run_alone("gui_training", __doc__.splitlines()[0])
