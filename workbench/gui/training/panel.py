"""The training panel: run settings, Train / Pause / Stop, progress, live curves, runs and results.

`TrainingPanel` is the controller the main window plugs in (`MainWindow.set_run_handlers`); its
three widgets live in docks: `controls` (buttons, progress, run settings), `curves` (runs list
and live plots) and `results`.

Starting a run (`start`) checks the device (a device this machine lacks is refused with the
reason) and the memory estimate, snapshots the project, and hands a `RunRequest` to a worker
object in a QThread (worker.py), which has a training process of its own run it: a crash there
(a segfault, the system killing it for memory) ends the run with the reason in the progress
line, and the window stays up. `start_spare()` (the app calls it once the window is up and the
training modules are loaded) keeps a process ready that has imported torch and the engine, so
that Train starts stepping at once; after each run the next one is started, and `shutdown()`
ends them. Events come back through the worker's buffer, drained at most
every 34 ms into the run's `RunSeries`; the plot redraws at most 10 times a second and the
progress line 4 times (both at once when the run ends), so that the GUI thread stays free for
the user. The run folder is `default_run_dir(project)`: runs/<project>-<time> beside the project
file, the same place and format as `workbench train`.

While a run goes the editor is read-only (MainWindow.set_training_running): the run trains the
network as it was when Train was pressed, and the settings form is locked.

A distillation (the Export dialog's "Train the student") is started with `start_distillation`:
the same worker, curves, Stop and Pause; its run folder goes beside the project's runs.

Programmatic use (tests, benchmarks, `workbench open --train`):

    window.train()                         # exactly what the Train button does; True if started
    panel = window.training
    outcome = panel.wait_for_run()         # a local event loop until the thread has finished
    panel.plot.step_count(), panel.plot.step_data()   # the live loss curve's points
    panel.plot.points_appended.connect(...)           # (new points, newest event perf_counter)
    panel.worker.buffer.last_put_time                 # perf_counter of the newest event put
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.errors import DeviceError, WorkbenchError
from workbench.gui import theme
from workbench.gui.session import EditorSession
from workbench.gui.training.memory import check_memory
from workbench.gui.training.plots import LivePlot
from workbench.gui.training.progress import ProgressView
from workbench.gui.training.results import ResultsView
from workbench.gui.training.results_data import RunResults
from workbench.gui.training.run_folders import RunInfo, runs_root
from workbench.gui.training.runs_list import RunsList
from workbench.gui.training.series import RunSeries
from workbench.gui.training.estimate_view import EstimateView
from workbench.gui.training.settings_form import RunSettingsForm
from workbench.gui.preload import TRAINING_MODULES
from workbench.gui.training.worker import (
    BackgroundTask,
    DistillRequest,
    Drainer,
    DistributedWorker,
    RunOutcome,
    RunRequest,
    TrainingWorker,
    make_thread,
)
from workbench.project import Project

log = logging.getLogger(__name__)

FOLLOW_INTERVAL_MS = 1000  # overlaid runs still being written (by the CLI) are re-read this often


class TrainingControls(QWidget):
    """The Training dock: buttons, the read-only note, progress, and the run settings."""

    def __init__(self, form: RunSettingsForm, progress: ProgressView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train_button = QToolButton()
        self.pause_button = QToolButton()
        self.stop_button = QToolButton()
        for button in (self.train_button, self.pause_button, self.stop_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(form)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 2)
        layout.addLayout(buttons)
        layout.addWidget(progress)
        layout.addWidget(self.note)
        layout.addWidget(scroll, 1)


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


class ReadOnlyBanner(QLabel):
    """A strip over the top of the canvas while a run trains."""

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        view.installEventFilter(self)
        self._view = view

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self._view and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def show_text(self, text: str) -> None:
        c = theme.colors()
        self.setStyleSheet(f"background: {c.warning.name()}; color: #1a202c; padding: 4px 12px; border-radius: 4px;")
        self.setText(text)
        self.adjustSize()
        self._place()
        self.show()
        self.raise_()

    def _place(self) -> None:
        self.adjustSize()
        self.move(max(0, (self._view.width() - self.width()) // 2), 8)


class _Callbacks(QObject):
    """Receives a background task's result in the GUI thread (a plain function connected to a
    worker's signal would run in the worker's thread)."""

    def __init__(self, done: Any, failed: Any, parent: QObject) -> None:
        super().__init__(parent)
        self._done, self._failed = done, failed

    @Slot(object)
    def on_done(self, value: Any) -> None:
        self._done(value)

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self._failed(message)


class TrainingPanel(QObject):
    """Runs training for the open project and shows it."""

    run_started = Signal(object)  # RunRequest
    run_finished = Signal(object)  # RunOutcome, once the worker's QThread has finished
    running_changed = Signal(bool)
    paused_changed = Signal(bool)
    results_shown = Signal(object)  # RunResults
    status_message = Signal(str, int)  # text for the status bar, milliseconds
    data_fitted = Signal(object)  # {node id: {param: value}}: what the run changed to fit its data
    sample_finished = Signal(str)  # text generated in the Results panel (or the reason it was not)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from workbench.gui.app import work_around_refcount_bugs

        work_around_refcount_bugs()  # live plots call Qt from Python thousands of times a second
        self.session: EditorSession | None = None
        self.interactive = True  # False: no dialogs (the --train hook, tests)
        self.form = RunSettingsForm()
        self._missing_shown: str | None = None  # the "choose your data" line on the status, while shown
        self.form.settings_edited.connect(self._show_missing_data)
        self.progress = ProgressView()
        self.controls = TrainingControls(self.form, self.progress)
        self.estimate = EstimateView()  # under the settings: the run's cost, on demand
        self.controls.layout().addWidget(self.estimate)
        self.plot = LivePlot()
        self.runs = RunsList()
        self.results = ResultsView()
        self.curves = QSplitter(Qt.Orientation.Horizontal)
        self.curves.addWidget(self.runs)
        self.curves.addWidget(self.plot)
        self.curves.setStretchFactor(0, 0)
        self.curves.setStretchFactor(1, 1)
        self.curves.setSizes([260, 1100])
        # The docks hold scroll areas, so that the plots' and results' minimum sizes never set
        # the window's: a small window scrolls them instead.
        self.curves_area = _scrolled(self.curves)
        self.results_area = _scrolled(self.results)

        self.worker: TrainingWorker | DistributedWorker | None = None
        self.keep_spare = False  # start_spare() was called: a process stays ready for the next run
        self._spare: Any = None  # workbench.training.child_process.TrainingChild, warming up or waiting
        self._resume_records: list[dict[str, Any]] = []  # the run folder's records when a resumed run began
        self._thread: QThread | None = None
        self._drainer: Drainer | None = None
        self.request: RunRequest | None = None
        self.series: RunSeries | None = None
        self.live_key: str | None = None
        self.meta: dict[str, Any] = {}
        self.last_outcome: RunOutcome | None = None
        self.paused = False
        self._stopping = False
        self._tasks: list[tuple[QThread, BackgroundTask, _Callbacks]] = []
        self._overlays: dict[str, RunSeries] = {}
        self._tails: dict[str, Any] = {}
        self.last_step_time = math.nan  # perf_counter stamp of the newest step drained

        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_INTERVAL_MS)
        self._follow_timer.timeout.connect(self._follow_overlays)

        self.runs.overlay_toggled.connect(self._overlay_toggled)
        self.runs.resume_requested.connect(self.resume_run)
        self.runs.results_requested.connect(self.show_run_results)
        self.results.sample_requested.connect(self._sample)
        self.results.checkpoint_changed.connect(self._checkpoint_changed)
        self.estimate.estimate_requested.connect(self.estimate_cost)
        self.retranslate()
        self._update_buttons()

    # ----- wiring ----------------------------------------------------------------------------

    def attach_actions(self, train: QAction, pause: QAction, stop: QAction) -> None:
        """The window's Run actions drive the dock's buttons (one state, one shortcut)."""
        self.controls.train_button.setDefaultAction(train)
        self.controls.pause_button.setDefaultAction(pause)
        self.controls.stop_button.setDefaultAction(stop)

    def retranslate(self) -> None:
        self.controls.note.setText(self.tr("Training: the network and these settings are read-only until the run ends."))

    @property
    def running(self) -> bool:
        return self._thread is not None

    def set_session(self, session: EditorSession | None) -> None:
        """The project in the editor changed (opened, closed).

        The window offers no way to open or close a project while a run goes (the editor is
        read-only); should one come anyway, the run goes on and only the form follows.
        """
        self.session = session
        self.form.set_session(session)
        if self.running:
            return
        self.live_key, self.series = None, None
        self.plot.clear()
        self._overlays.clear()
        self._tails.clear()
        self._follow_timer.stop()
        self.results.show_message(None)
        self.progress.reset()
        self.progress.set_status("")
        if session is None:
            self.runs.set_project(None, None)
        else:
            project = session.project
            self.runs.set_project(lambda: runs_root(project), project.name)
        self._show_missing_data()
        self._update_buttons()

    def missing_data(self, project: Project) -> str | None:
        """What to say when `project` reads the user's data but names none (an imported
        pretrained model has no image folder until the user chooses one); None when it does."""
        from workbench.data.paths import data_to_choose

        what = data_to_choose(project.dataset)
        if what == "image folder":
            return self.tr("Choose your image folder: Data › File or folder in the run settings "
                           "(one sub-folder of images per class). This project names no data yet.")
        if what is not None:
            return self.tr("Choose your data file: Data › File or folder in the run settings. "
                           "This project names no data yet.")
        return None

    def _show_missing_data(self) -> None:
        """Say so on the status line while the open project names no data; clear it once it does."""
        if self.running or self.session is None:
            return
        text = self.missing_data(self.session.project)
        if text is not None:
            self.progress.set_status(text, "warning")
        elif self.progress.status.text() == self._missing_shown:
            self.progress.set_status("")
        self._missing_shown = text

    def _update_buttons(self) -> None:
        self.form.setEnabled(self.session is not None and not self.running)
        self.estimate.setEnabled(self.session is not None and not self.running)
        self.controls.note.setVisible(self.running)
        self.runs.set_busy(self.running)

    # ----- starting ----------------------------------------------------------------------------

    def refuse(self, text: str) -> bool:
        """Do not start; say why where the user looks (the panel and the status bar)."""
        self.progress.set_status(text, "error")
        self.status_message.emit(text, 10000)
        return False

    def start(self, project: Project | None = None, resume_from: Path | None = None,
              run_dir: Path | None = None) -> bool:
        """Train `project` (default: the open one) in the worker thread; False when refused."""
        from workbench.runs import default_run_dir
        from workbench.training.devices import resolve_device

        if self.running:
            return self.refuse(self.tr("A run is already going: stop it first."))
        project = project or (self.session.project if self.session is not None else None)
        if project is None:
            return False
        missing = self.missing_data(project)
        if missing is not None:
            return self.refuse(missing)
        settings = project.training
        nproc = self.form.nproc
        if nproc > 1 and len(self.form.cuda_devices()) < nproc:
            nproc = 1
        if nproc <= 1:
            try:
                resolve_device(settings.device)
            except DeviceError as exc:
                return self.refuse(self.tr("Cannot train on %1: %2").replace("%1", settings.device).replace("%2", str(exc)))
        check = check_memory(project.graph, settings.batch_size, settings.optimizer, self.form.chosen_device())
        if check is not None and not check.fits:
            warning = self.form.memory_warning(check)
            if self.interactive:
                answer = QMessageBox.warning(
                    self.controls, self.tr("Memory"), warning + "\n\n" + self.tr("Train anyway?"),
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
                if answer != QMessageBox.StandardButton.Yes:
                    return self.refuse(warning)
            self.form.show_warning(warning, memory=True)
        # The run trains this copy: the editor is read-only meanwhile, and the copy keeps it so.
        snapshot = Project(project.name, project.graph.copy(), project.dataset, project.training,
                           project.description, project.path)
        target = Path(run_dir) if run_dir is not None else default_run_dir(project)
        request = RunRequest(snapshot, target.resolve(), Path(resume_from).resolve() if resume_from else None,
                             fit_data=self.form.fit_data.isChecked(), nproc=max(1, nproc),
                             results_checkpoint=self.results.checkpoint(),
                             estimate=self.estimate.estimate_for(snapshot, self.form.fit_data.isChecked())
                             if nproc <= 1 and resume_from is None else None)
        try:
            worker = self._make_worker(request)
        except (OSError, WorkbenchError) as exc:
            return self.refuse(str(exc))
        self._begin(request, worker)
        return True

    def start_distillation(self, teacher_run: Path, student: str, settings: Any, baseline: bool = False,
                           run_dir: Path | None = None) -> bool:
        """Distil the trained run `teacher_run` into a smaller `student` (a width factor such as
        "0.5", a preset or a project file) with `settings` (DistillSettings), as a run of this
        panel: live curves, Stop and Pause, results. False, with the reason shown, when refused."""
        from workbench.project import load_project
        from workbench.runs import default_run_dir
        from workbench.training.devices import resolve_device

        if self.running:
            return self.refuse(self.tr("A run is already going: stop it first."))
        teacher_run = Path(teacher_run)
        try:
            teacher = load_project(teacher_run / "project.json")
            resolve_device(teacher.training.device)
        except WorkbenchError as exc:
            return self.refuse(self.tr("Cannot distil %1: %2").replace("%1", teacher_run.name).replace("%2", str(exc)))
        # The request's project names the student's run and its epochs; the network is the
        # student's, which the worker resolves from `student`. Runs go where this project's do.
        here = self.session.project.path if self.session is not None else None
        standin = Project(f"{teacher.name}-student", teacher.graph, teacher.dataset,
                          teacher.training.replace(epochs=settings.epochs), teacher.description, here)
        target = Path(run_dir) if run_dir is not None else default_run_dir(standin)
        request = RunRequest(standin, target.resolve(), results_checkpoint=self.results.checkpoint(),
                             distill=DistillRequest(teacher_run.resolve(), str(student), settings, baseline))
        self._begin(request, TrainingWorker(request, self._take_spare()))
        return True

    # ----- the training processes ------------------------------------------------------------------

    def start_spare(self) -> None:
        """Keep a training process ready from now on: it imports torch and the engine and takes a
        tiny optimizer step (~3 s) while nobody waits, so that Train starts stepping at once.
        After each run the next one is started; `shutdown()` ends it."""
        from workbench.training.child_process import TrainingChild

        self.keep_spare = True
        spare = self._spare
        if (spare is not None and spare.usable()) or self.running:
            return  # during a run it would take CPU from training: it starts when the run ends
        if spare is not None:
            spare.end()
        try:
            self._spare = TrainingChild.start()
        except OSError as exc:  # no process could be started: each run then tries on its own
            self._spare = None
            log.warning("cannot start a spare training process: %s", exc)

    @property
    def spare(self) -> Any:
        """The training process waiting for the next run (None: the next run starts one)."""
        return self._spare

    def _take_spare(self) -> Any:
        spare, self._spare = self._spare, None
        return spare

    def _end_spare(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            spare.end()

    def _make_worker(self, request: RunRequest) -> TrainingWorker | DistributedWorker:
        if request.nproc <= 1:
            return TrainingWorker(request, self._take_spare())
        from workbench.project import save_project

        # The job reads a project file; the editor's may be unsaved or changed since: write this one.
        root = request.run_dir.parent
        root.mkdir(parents=True, exist_ok=True)
        project = request.project
        source = Project(project.name, project.graph, project.dataset, project.training, project.description)
        if project.dataset.path and project.base_dir and not Path(project.dataset.path).is_absolute():
            import dataclasses

            source.dataset = dataclasses.replace(project.dataset, path=str((project.base_dir / project.dataset.path).resolve()))
        project_file = root / f".{request.run_dir.name}.project.json"
        save_project(source, project_file)
        return DistributedWorker(request, project_file, root / f"{request.run_dir.name}.log")

    def _begin(self, request: RunRequest, worker: TrainingWorker | DistributedWorker) -> None:
        self.request = request
        self.worker = worker
        self.meta = {"epochs": request.project.training.epochs}
        if isinstance(worker, TrainingWorker):
            self.meta["memory"] = (None, "")  # until its training process measures it
        self.paused = False
        self._stopping = False
        self.last_outcome = None
        key = str(request.run_dir)
        # The previous live run stays on the plot as an overlay while it is ticked.
        if self.live_key is not None and self.series is not None and self.live_key in self.plot.runs:
            old = self.live_key
            self._overlays[old] = self.series
            self.plot.add_run(old, self.runs.label_of(old), self.series, self.runs.color_of(old), live=False)
        series = RunSeries(self.plot.smoothing.value())
        self._resume_records = []
        if request.resume_from is not None and (request.run_dir / "metrics.jsonl").is_file():
            from workbench.training.jobs import MetricsTail

            # Continuing a run in its own folder: its curve goes on from where it was (what
            # was recorded after the checkpoint goes when the process says where it resumed).
            self._resume_records = [r for r in MetricsTail(request.run_dir).poll() if r.get("kind") in ("step", "epoch")]
            series.add_records(self._resume_records)
            series.infer_steps_per_epoch()
        self.series = series
        self.live_key = key
        self._overlays.pop(key, None)
        self.runs.live_path = key
        self.runs.refresh()
        self.runs.set_checked(key, True)
        self.plot.add_run(key, self.runs.label_of(key), series, self.runs.color_of(key), live=True)
        self.results.show_message(self.tr("Results appear here when the run ends."))

        self._drainer = Drainer(worker.buffer, self._consume, parent=self)
        worker.events_pending.connect(self._drainer.poke)
        worker.prepared.connect(self._prepared)
        worker.results_ready.connect(self._results_ready)
        worker.run_ended.connect(self._run_ended)
        thread = make_thread(worker, worker.run, "workbench-training", TRAINING_MODULES)
        thread.finished.connect(self._thread_finished)
        self._thread = thread
        self.progress.begin(request.project.training.epochs)
        self.progress.set_status(self.tr("Preparing the data and the model…"))
        self._update_buttons()
        self.running_changed.emit(True)
        self.run_started.emit(request)
        thread.start()

    # ----- control -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop after the current step; the run keeps its metrics and writes last.pt."""
        if self.worker is None or not self.running:
            return
        self._stopping = True
        self.worker.request_stop()
        if self.paused:
            self.paused = False
            self.paused_changed.emit(False)
        self.progress.set_status(self.tr("Stopping after this step…"))

    def pause(self) -> None:
        if self.worker is None or not self.running or self.paused or isinstance(self.worker, DistributedWorker):
            return
        self.worker.request_pause()
        self.paused = True
        step = self.series.last_step() if self.series is not None else 0
        self.progress.set_status(self.tr("Paused after step %1 — Resume continues.").replace("%1", f"{step:,}"))
        self.paused_changed.emit(True)

    def resume(self) -> None:
        if self.worker is None or not self.paused:
            return
        self.worker.request_resume()
        self.paused = False
        self.progress.set_status(self.tr("Training…"))
        self.paused_changed.emit(False)

    def pause_supported(self) -> bool:
        """A distributed run cannot pause (its ranks would time out waiting for each other)."""
        return not isinstance(self.worker, DistributedWorker)

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def resume_run(self, info: RunInfo) -> bool:
        """Continue a run folder from its last checkpoint with the open project's settings."""
        checkpoint = info.last_checkpoint
        if checkpoint is None:
            return self.refuse(self.tr("%1 has no checkpoint to resume from.").replace("%1", info.name))
        self._overlays.pop(str(info.path), None)
        self.plot.remove_run(str(info.path))
        return self.start(resume_from=checkpoint, run_dir=info.path)

    # ----- events from the worker ------------------------------------------------------------------

    def _consume(self, items: list[tuple[float, Any]]) -> None:
        """Drained events (GUI thread): into the series; the plot and progress line follow, throttled."""
        series = self.series
        if series is None:
            return
        newest = math.nan
        for stamp, item in items:
            if isinstance(item, tuple):
                kind, data = item
                if kind == "meta":
                    self.meta.update({k: v for k, v in data.items() if v is not None})
                    series.set_steps_per_epoch(data.get("steps_per_epoch"))
                    if not self.paused and not self._stopping:
                        self.progress.set_status(self.tr("Training on %1…").replace("%1", str(data.get("device") or "?")))
                elif kind == "memory":  # (bytes, what): measured by the training process
                    self.meta["memory"] = data
                elif kind == "failed" and series.status is None:  # the worker's own failure: the run is over
                    series.status, series.message = "failed", str(data)
                continue
            kind = series.add_record(item) if isinstance(item, dict) else series.add_event(item)
            if kind == "resumed":
                series = self._cut_to_checkpoint(item)
            elif kind == "step":
                newest = stamp
            elif kind == "epoch" and series.steps_per_epoch is None:
                series.infer_steps_per_epoch()
        if not math.isnan(newest):
            self.last_step_time = newest
        series.set_plan(self.meta.get("epochs"))  # the live plot's x axis spans the planned steps
        ended = series.status is not None  # an outcome came: show the last points now, not at the next frame
        if self.live_key in self.plot.runs:
            if ended:
                self.plot.refresh([self.live_key], newest_time=newest)
            else:
                self.plot.request_refresh(self.live_key, newest_time=newest)  # ~10 Hz
        self.progress.update_progress(series, self.meta, force=ended)  # ~4 Hz

    def _cut_to_checkpoint(self, record: dict[str, Any]) -> RunSeries:
        """A resumed run restarts from its checkpoint: the points recorded after it (a run
        killed after the checkpoint was written) leave the curve, as they leave metrics.jsonl."""
        series = self.series
        assert series is not None
        step, epoch = int(record.get("step") or 0), int(record.get("epoch") or 0)
        beyond = (series.step_count() and series.step.last(0.0) > step) or \
            (series.epoch_count() and series.epoch.last(0.0) > epoch)
        if not beyond or self.live_key is None:
            return series
        kept = [r for r in self._resume_records
                if (r["kind"] == "step" and int(r.get("step") or 0) <= step)
                or (r["kind"] == "epoch" and int(r.get("epoch") or 0) <= epoch)]
        cut = RunSeries(self.plot.smoothing.value())
        cut.set_steps_per_epoch(series.steps_per_epoch)
        cut.add_records(kept)
        cut.infer_steps_per_epoch()
        self.series = cut
        key = self.live_key
        self.plot.add_run(key, self.runs.label_of(key), cut, self.runs.color_of(key), live=True)
        return cut

    @Slot(object)
    def _prepared(self, info: dict[str, Any]) -> None:
        for change in info.get("changes") or []:
            self.status_message.emit(self.tr("To fit the data: %1").replace("%1", change), 8000)
        if info.get("fitted"):
            self.data_fitted.emit(info["fitted"])
        init = [line.strip() for line in info.get("init") or []]
        if init:  # what init_from loaded and skipped (the core's words; also in summary.json)
            self.status_message.emit("; ".join(init), 15000)

    @Slot(object)
    def _results_ready(self, results: RunResults) -> None:
        self.results.show_results(results)
        self.results_shown.emit(results)

    @Slot(object)
    def _run_ended(self, outcome: RunOutcome) -> None:
        if self._drainer is not None:
            self._drainer.drain()  # the last events, before the outcome is shown
        self.last_outcome = outcome

    @Slot()
    def _thread_finished(self) -> None:
        thread = self._thread
        if thread is None:
            return
        thread.wait()
        self._thread = None
        if self._drainer is not None:
            self._drainer.drain()
            self._drainer.deleteLater()
            self._drainer = None
        outcome = self.last_outcome or RunOutcome("failed", self.tr("the training thread ended without a result"),
                                                  self.request.run_dir if self.request else Path("."))
        self.last_outcome = outcome
        self.paused = False
        if self.keep_spare:
            self.start_spare()  # the next run's process, now that this one has gone
        self.runs.live_path = None
        self.runs.refresh()
        if self.series is not None:
            self.progress.finish(self.series)
        self._show_outcome(outcome)
        self._update_buttons()
        self.running_changed.emit(False)
        self.run_finished.emit(outcome)

    def _show_outcome(self, outcome: RunOutcome) -> None:
        if outcome.status == "failed":
            text = self.tr("The run failed: %1").replace("%1", outcome.message)
            if (outcome.run_dir / "metrics.jsonl").is_file():
                text += " " + self.tr("(its metrics so far are kept in %1)").replace("%1", str(outcome.run_dir))
            self.progress.set_status(text, "error")
            self.results.show_message(self.tr("No results: the run failed."))
            self.status_message.emit(self.tr("Training failed"), 6000)
            return
        summary = outcome.summary
        figures = []
        for name, label in (("val_accuracy", self.tr("validation accuracy")),
                            ("val_token_accuracy", self.tr("token accuracy")), ("val_mae", self.tr("validation MAE"))):
            value = summary.get(name)
            if isinstance(value, (int, float)):
                figures.append(f"{label} {value:.1%}" if "accuracy" in name else f"{label} {value:.4g}")
        if isinstance(summary.get("val_loss"), (int, float)):
            figures.append(self.tr("validation loss %1").replace("%1", f"{summary['val_loss']:.4f}"))
        heading = {"finished": self.tr("Finished"), "stopped": self.tr("Stopped"),
                   "early_stopped": self.tr("Stopped early")}.get(outcome.status, outcome.status)
        steps = summary.get("global_steps")
        text = heading
        if isinstance(steps, int):
            text += " (" + self.tr("%1 steps").replace("%1", f"{steps:,}") + ")"
        if figures:
            text += ": " + ", ".join(figures)
        if self.request is not None and self.request.distill is not None and outcome.message:
            verdict = outcome.message  # against the labels-only student: "distillation helped: ..."
            text += ". " + verdict[:1].upper() + verdict[1:]
        text += ". " + self.tr("Run folder: %1").replace("%1", str(outcome.run_dir))
        self.progress.set_status(text, "ok")
        self.status_message.emit(heading, 6000)

    # ----- waiting and shutting down -----------------------------------------------------------

    def wait_for_run(self, timeout_ms: int | None = None) -> RunOutcome | None:
        """Process events until the current run's thread has finished (or the timeout)."""
        if not self.running:
            return self.last_outcome
        loop = QEventLoop()
        self.run_finished.connect(loop.quit)
        if timeout_ms is not None:
            QTimer.singleShot(timeout_ms, loop.quit)
        try:
            loop.exec()
        finally:
            self.run_finished.disconnect(loop.quit)
        return self.last_outcome if not self.running else None

    def shutdown(self, timeout_ms: int = 60000) -> None:
        """Stop any run, wait for every thread of the panel and end the training processes (the
        window is closing). A run that has not stopped within `timeout_ms` has its process killed."""
        self.keep_spare = False
        self._end_spare()
        if self.worker is not None and self.running:
            self.worker.request_stop()
        if self._thread is not None:
            if not self._thread.wait(timeout_ms) and isinstance(self.worker, TrainingWorker):
                log.warning("the training process did not stop within %d ms; ending it", timeout_ms)
                self.worker.abort()
                self._thread.wait()
            QCoreApplication.sendPostedEvents(self)  # the worker's queued run_ended: the outcome
            self._thread_finished()
        for thread, _task, _callbacks in list(self._tasks):
            thread.wait(timeout_ms)
        self._tasks.clear()
        self._follow_timer.stop()

    # ----- overlays --------------------------------------------------------------------------------

    def _overlay_toggled(self, info: RunInfo, shown: bool) -> None:
        key = str(info.path)
        if not shown:
            self.plot.remove_run(key)
            self._tails.pop(key, None)
            if not self._tails:
                self._follow_timer.stop()
            return
        if key == self.live_key and self.series is not None:
            self.plot.add_run(key, self.runs.label_of(key), self.series, self.runs.color_of(key), live=self.running)
            return
        from workbench.training.jobs import MetricsTail

        tail = MetricsTail(info.path)
        series = RunSeries.from_records(tail.poll(), self.plot.smoothing.value())
        self._overlays[key] = series
        self.plot.add_run(key, self.runs.label_of(key), series, self.runs.color_of(key))
        if info.status == "running" and not tail.finished:
            self._tails[key] = tail  # a run still being written (e.g. by `workbench train`): follow it
            self._follow_timer.start()

    def _follow_overlays(self) -> None:
        for key, tail in list(self._tails.items()):
            series = self._overlays.get(key)
            if series is None:
                self._tails.pop(key, None)
                continue
            series.add_records(tail.poll())
            series.infer_steps_per_epoch()
            self.plot.refresh([key])
            if tail.finished:
                self._tails.pop(key, None)
                self.runs.refresh()
        if not self._tails:
            self._follow_timer.stop()

    # ----- results of older runs, and sampling -------------------------------------------------------

    def _run_task(self, fn: Any, done: Any, failed: Any) -> None:
        """Run `fn` in a thread of its own; `done(value)` or `failed(message)` run in the GUI thread."""
        task = BackgroundTask(fn)
        callbacks = _Callbacks(done, failed, self)  # a GUI-thread receiver: the calls are queued here
        thread = make_thread(task, task.run, "workbench-task")
        task.done.connect(callbacks.on_done)
        task.failed.connect(callbacks.on_failed)
        thread.finished.connect(self._task_finished)
        self._tasks.append((thread, task, callbacks))
        thread.start()

    @Slot()
    def _task_finished(self) -> None:
        for entry in list(self._tasks):
            thread, _task, callbacks = entry
            if thread.isFinished():
                thread.wait()
                self._tasks.remove(entry)
                callbacks.deleteLater()

    def show_run_results(self, info: RunInfo | Path) -> None:
        """Evaluate a run folder in the background (with the checkpoint chosen in the Results
        panel) and show its results."""
        from workbench.gui.training.results_data import compute_results

        path = info.path if isinstance(info, RunInfo) else Path(info)
        checkpoint = self.results.checkpoint()
        self.results.show_message(self.tr("Evaluating %1 on its validation set…").replace("%1", path.name))
        self._run_task(lambda: compute_results(path, checkpoint=checkpoint), self._results_ready,
                       lambda message: self.results.show_message(self.tr("No results: %1").replace("%1", message)))

    def estimate_cost(self) -> None:
        """Estimate the open project's run (FLOPs, time from a few timed steps, energy, CO₂) in a
        thread of its own; the answer appears under the run settings."""
        from workbench.gui.training.estimate_view import estimate_key, estimate_project

        if self.session is None:
            return
        project = self.session.project
        snapshot = Project(project.name, project.graph.copy(), project.dataset, project.training,
                           project.description, project.path)
        fit = self.form.fit_data.isChecked()
        key = estimate_key(snapshot, fit)
        self.estimate.set_busy()
        self._run_task(lambda: estimate_project(snapshot, fit), lambda est: self.estimate.show_estimate(est, key),
                       self.estimate.show_message)

    def _checkpoint_changed(self, _checkpoint: str) -> None:
        shown = self.results.results
        if shown is not None and not (self.running and self.request is not None and shown.run_dir == self.request.run_dir):
            self.show_run_results(shown.run_dir)

    def _sample(self, prompt: str, temperature: float, length: int) -> None:
        results = self.results.results
        if results is None or results.model is None:
            return
        from workbench.sampling import generate

        model, vocab = results.model, results.vocab or []

        def done(text: str) -> None:
            self.results.show_generated(text)
            self.sample_finished.emit(text)

        def failed(message: str) -> None:
            self.results.show_generated(message, error=True)
            self.sample_finished.emit(message)

        self._run_task(lambda: generate(model, vocab, prompt, length, temperature, seed=None), done, failed)
