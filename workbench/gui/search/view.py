"""Run › Search…: a hyperparameter search on the open project, shown live.

The left side sets the search: the objectives, the space (the run settings and the node
parameters marked searchable in the inspector, each searched over its values or fixed), the
number of trials, the storage and the devices. Trials run one at a time in a worker thread
(`worker.SearchWorker`), or one at a time per listed device, each device with its own worker
sharing the study; after each one the right side redraws from the study: the objectives
scatter with the Pareto front, parallel coordinates, parameter importances and the table.
Choosing a trial applies its values to the project as one undo step, or opens its run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.errors import WorkbenchError
from workbench.gui.preload import worker_thread
from workbench.gui.search.commands import ApplyTrialCommand
from workbench.gui.search.plots import ImportanceBars, ObjectivesScatter, ParallelCoordinates, trial_values_text
from workbench.gui.search.worker import SEARCH_THREAD, SearchWorker
from workbench.gui.session import EditorSession
from workbench.project import Project
from workbench.tuning.objectives import DIRECTIONS, parse_objectives
from workbench.tuning.runner import TuneOptions, shares
from workbench.tuning.space import build_space, default_space
from workbench.tuning.study import StudySnapshot, default_storage, default_study_name, open_study

log = logging.getLogger(__name__)

MIN_IMPORTANCE_TRIALS = 4


def entry_text(entry: Any) -> str:
    """A space entry as the space table shows it: `a, b, c`, `low..high [log]`, or one value."""
    if isinstance(entry, list):
        return ", ".join(_value_text(v) for v in entry)
    if isinstance(entry, dict):
        text = f"{_value_text(entry['low'])}..{_value_text(entry['high'])}"
        return text + (" log" if entry.get("log") else f" step {entry['step']}" if entry.get("step") else "")
    return _value_text(entry)


def parse_entry(text: str) -> Any:
    """The inverse of `entry_text`: a list, a range, or one value (numbers where they read as such)."""
    text = text.strip()
    match = re.fullmatch(r"(\S+)\s*\.\.\s*(\S+?)(?:\s+(log|step\s+\S+))?", text)
    if match and "," not in text:
        entry: dict[str, Any] = {"low": _read(match.group(1)), "high": _read(match.group(2))}
        extra = match.group(3) or ""
        if extra == "log":
            entry["log"] = True
        elif extra.startswith("step"):
            entry["step"] = _read(extra.split()[1])
        return entry
    if "," in text:
        return [_read(part) for part in text.split(",") if part.strip()]
    return _read(text)


def _read(text: str) -> Any:
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _finished(snapshot: StudySnapshot) -> int:
    return sum(t.state not in ("RUNNING", "WAITING") for t in snapshot.trials)


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{int(value):,}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


class SearchWindow(QDialog):
    """The Search view of one editor session."""

    open_run_requested = Signal(object)  # Path of a trial's run folder
    search_finished = Signal()  # the worker thread has ended
    study_shown = Signal()  # the plots and the table show a new snapshot

    def __init__(self, session: EditorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Search — %1").replace("%1", session.project.name))
        self.session = session
        self.snapshot: StudySnapshot | None = None
        # One worker per device: each runs its share of the trials on the same study.
        self._workers: list[SearchWorker] = []
        self._threads: list[QThread] = []
        self._options: TuneOptions | None = None
        self._first_number: int | None = None  # the first trial of this search (a study may hold earlier ones)

        # ----- the search's settings (left)
        self.objectives = QListWidget()
        chosen = self._default_objectives()
        for name in DIRECTIONS:
            item = QListWidgetItem(f"{name} ({'maximise' if DIRECTIONS[name] == 'maximize' else 'minimise'})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setCheckState(Qt.CheckState.Checked if name in chosen else Qt.CheckState.Unchecked)
            self.objectives.addItem(item)
        self.objectives.setMaximumHeight(150)
        self.space_table = QTableWidget(0, 3)
        self.space_table.setHorizontalHeaderLabels([self.tr("Search"), self.tr("Name"), self.tr("Values")])
        self.space_table.verticalHeader().hide()
        self.space_table.setWordWrap(False)
        header = self.space_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.space_table.setToolTip(self.tr("Checked: searched over the values (a, b, c) or the range "
                                            "(low..high, optionally 'log'). Unchecked: the value given, or the "
                                            "project's own when empty."))
        self.trials = QSpinBox()
        self.trials.setRange(1, 10_000)
        self.trials.setValue(20)
        project = session.project
        self.storage = QLineEdit(default_storage(project))
        self.study_name = QLineEdit(default_study_name(project))
        self.devices = QLineEdit("auto")
        self.devices.setToolTip(self.tr("Where trials train: 'auto' (the project's device), or several devices "
                                        "separated by commas (cuda:0, cuda:1), each running one trial at a time"))
        self.start_button = QPushButton(self.tr("Start"))
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setEnabled(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("Trials"), self.trials)
        form.addRow(self.tr("Storage"), self.storage)
        form.addRow(self.tr("Study"), self.study_name)
        form.addRow(self.tr("Devices"), self.devices)
        left = QWidget()
        left.setMinimumWidth(440)  # the space's values stay readable
        lay = QVBoxLayout(left)
        box = QGroupBox(self.tr("Objectives (the first two are plotted)"))
        QVBoxLayout(box).addWidget(self.objectives)
        lay.addWidget(box)
        box = QGroupBox(self.tr("Search space"))
        QVBoxLayout(box).addWidget(self.space_table)
        lay.addWidget(box, 1)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        lay.addLayout(buttons)
        lay.addWidget(self.status)

        # ----- the study (right)
        self.scatter = ObjectivesScatter()
        self.parallel = ParallelCoordinates()
        self.importance = ImportanceBars()
        plots = QSplitter(Qt.Orientation.Horizontal)
        for title, widget in ((self.tr("Objectives"), self.scatter.widget),
                              (self.tr("Parallel coordinates"), self.parallel.widget),
                              (self.tr("Importance"), self.importance.widget)):
            group = QGroupBox(title)
            QVBoxLayout(group).addWidget(widget)
            plots.addWidget(group)
        plots.setSizes([420, 480, 300])
        self.table = QTableWidget(0, 0)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.apply_button = QPushButton(self.tr("Apply to Project"))
        self.open_button = QPushButton(self.tr("Open Run"))
        self.front_only = QCheckBox(self.tr("Best trials only"))
        self.selection = QLabel()
        for button in (self.apply_button, self.open_button):
            button.setEnabled(False)
        actions = QHBoxLayout()
        actions.addWidget(self.front_only)
        actions.addWidget(self.selection, 1)
        actions.addWidget(self.apply_button)
        actions.addWidget(self.open_button)
        lower = QWidget()
        low = QVBoxLayout(lower)
        low.setContentsMargins(0, 0, 0, 0)
        low.addWidget(self.table)
        low.addLayout(actions)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(plots)
        right.addWidget(lower)
        right.setSizes([430, 370])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setSizes([430, 1010])
        outer = QVBoxLayout(self)
        outer.addWidget(main)
        self.resize(1400, 860)

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button.clicked.connect(self.apply_selected)
        self.open_button.clicked.connect(self.open_selected)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.scatter.clicked.trial.connect(self.select_trial)
        self.front_only.toggled.connect(lambda _checked: self._fill_table())
        self.fill_space()

    # ----- the search's settings -----------------------------------------------------------

    def _default_objectives(self) -> list[str]:
        output = next((n for n in self.session.graph.nodes if n.type == "Output"), None)
        classifies = output is not None and "cross_entropy" in str(output.params.get("loss", ""))
        return ["val_accuracy" if classifies else "val_loss", "params"]

    def fill_space(self) -> None:
        """The space table from the project: the default space (with the marked node parameters)."""
        entries = default_space(self.session.project)
        self.space_table.setRowCount(len(entries))
        for row, (name, entry) in enumerate(entries.items()):
            check = QTableWidgetItem()
            searched = isinstance(entry, (list, dict))
            check.setCheckState(Qt.CheckState.Checked if searched else Qt.CheckState.Unchecked)
            check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            label = QTableWidgetItem(name)
            label.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.space_table.setItem(row, 0, check)
            self.space_table.setItem(row, 1, label)
            self.space_table.setItem(row, 2, QTableWidgetItem(entry_text(entry)))

    def chosen_objectives(self) -> list[str]:
        return [self.objectives.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.objectives.count())
                if self.objectives.item(i).checkState() == Qt.CheckState.Checked]

    def set_objectives(self, names: list[str]) -> None:
        for i in range(self.objectives.count()):
            item = self.objectives.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in names
                               else Qt.CheckState.Unchecked)

    def set_entry(self, name: str, text: str, searched: bool) -> None:
        """Set one row of the space table (tests, and a space read from elsewhere)."""
        for row in range(self.space_table.rowCount()):
            if self.space_table.item(row, 1).text() == name:
                self.space_table.item(row, 0).setCheckState(Qt.CheckState.Checked if searched else Qt.CheckState.Unchecked)
                self.space_table.item(row, 2).setText(text)
                return
        raise KeyError(name)

    def space_overrides(self) -> dict[str, Any]:
        """The table as a space file's entries: searched ones parsed, unchecked ones fixed or left out."""
        out: dict[str, Any] = {}
        for row in range(self.space_table.rowCount()):
            name = self.space_table.item(row, 1).text()
            text = self.space_table.item(row, 2).text().strip()
            searched = self.space_table.item(row, 0).checkState() == Qt.CheckState.Checked
            if searched:
                out[name] = parse_entry(text)
            else:
                out[name] = parse_entry(text) if text else None
                if isinstance(out[name], (list, dict)):
                    out[name] = None  # a list in an unchecked row: not searched, the project's value
        return out

    def options(self) -> TuneOptions:
        """The search the left side describes; WorkbenchError names what is wrong."""
        project = self.session.project
        objectives = parse_objectives(self.chosen_objectives())
        space = build_space(project, self.space_overrides())
        if not space.dimensions:
            raise WorkbenchError(self.tr("check at least one row of the search space"))
        storage = self.storage.text().strip() or default_storage(project)
        study = self.study_name.text().strip() or default_study_name(project)
        return TuneOptions(trials=self.trials.value(), objectives=objectives, space=space, storage=storage,
                           study=study)

    # ----- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._threads)

    def chosen_devices(self) -> list[str]:
        """The devices of the Devices field; WorkbenchError names one the run settings refuse."""
        names = [d.strip() for d in self.devices.text().split(",") if d.strip()] or ["auto"]
        for name in names:
            self.session.project.training.replace(device=name)  # TrainingError for a malformed name
        return names

    def worker_options(self, options: TuneOptions, devices: list[str]) -> list[TuneOptions]:
        """The options of each worker: its device fixed, its share of the trials."""
        if devices == ["auto"]:
            return [options]
        out = []
        for device, count in zip(devices, shares(options.trials, len(devices))):
            if count:
                space = replace(options.space, fixed={**options.space.fixed, "device": device})
                out.append(replace(options, trials=count, space=space))
        return out

    def start(self) -> bool:
        """Start the search in the background; False (and the reason shown) when it cannot start."""
        if self.running:
            return False
        try:
            options = self.options()
            per_worker = self.worker_options(options, self.chosen_devices())
            # The study is created before the workers start (so that they only ever load it),
            # and a study of other objectives is refused here.
            open_study(options.storage, options.study, options.objectives)
        except WorkbenchError as exc:
            self._say(str(exc), error=True)
            return False
        project = self.session.project
        self._options, self._first_number, self.snapshot = options, None, None
        for i, worker_options in enumerate(per_worker):
            copy = Project(project.name, project.graph.copy(), project.dataset, project.training,
                           project.description, project.path)
            worker = SearchWorker(copy, worker_options)
            thread = worker_thread(worker, worker.run, f"{SEARCH_THREAD}-{i}", preload=("torch", "optuna"))
            # Quit from the worker's own thread (QThread.quit is thread-safe): a queued quit would
            # wait for the GUI thread, which may itself be waiting for this thread (shutdown).
            worker.ended.connect(thread.quit, Qt.ConnectionType.DirectConnection)
            worker.study_changed.connect(self.show_snapshot)
            worker.epoch_finished.connect(self._epoch_finished)
            worker.failed.connect(lambda message: self._say(message, error=True))
            thread.finished.connect(self._thread_finished)
            self._workers.append(worker)
            self._threads.append(thread)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._say(self.tr("Starting %1 trials…").replace("%1", str(options.trials)))
        for thread in self._threads:
            thread.start()
        return True

    def stop(self) -> None:
        """Ask the search to stop: the running trial ends after its current step."""
        for worker in self._workers:
            worker.request_stop()
        if self._workers:
            self._say(self.tr("Stopping after the current step…"))

    def wait(self, timeout_ms: int = 120_000) -> None:
        """Block until the worker threads have ended (tests, closing)."""
        for thread in list(self._threads):
            thread.wait(timeout_ms)

    @Slot()
    def _thread_finished(self) -> None:
        if any(thread.isRunning() for thread in self._threads):
            return  # another device's worker still has trials to run
        for worker in self._workers:
            worker.deleteLater()
        for thread in self._threads:
            thread.deleteLater()
        self._workers, self._threads = [], []
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if self.snapshot is not None and not self.status.property("error"):
            self._say(self._summary_text())
        self.search_finished.emit()

    @Slot(int, int)
    def _epoch_finished(self, epoch: int, epochs: int) -> None:
        done = self._done_count()
        total = self._options.trials if self._options is not None else 0
        self._say(self.tr("Trial %1 of %2: epoch %3 of %4").replace("%1", str(min(done + 1, total)))
                  .replace("%2", str(total)).replace("%3", str(epoch)).replace("%4", str(epochs)))

    def _done_count(self) -> int:
        if self.snapshot is None or self._first_number is None:
            return 0
        return sum(1 for t in self.snapshot.trials if t.number >= self._first_number and t.state != "RUNNING")

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setProperty("error", error)
        self.status.setText(f"<span style='color:#c53030'>{text}</span>" if error else text)

    def _summary_text(self) -> str:
        assert self.snapshot is not None
        states = [t.state for t in self.snapshot.trials]
        return (self.tr("%1 trials: %2 complete, %3 pruned, %4 failed. Open the storage with optuna-dashboard.")
                .replace("%1", str(len(states))).replace("%2", str(states.count("COMPLETE")))
                .replace("%3", str(states.count("PRUNED"))).replace("%4", str(states.count("FAIL"))))

    # ----- the study -------------------------------------------------------------------------

    @Slot(object)
    def show_snapshot(self, snapshot: StudySnapshot) -> None:
        """Redraw the plots and the table from the study."""
        if self._first_number is None and self.running:
            self._first_number = len(snapshot.trials)  # trials of earlier searches come first
        if self.snapshot is not None and _finished(snapshot) < _finished(self.snapshot):
            return  # another device's worker read the study a moment earlier
        self.snapshot = snapshot
        dimensions = self._options.space.dimensions if self._options is not None else ()
        self.scatter.show(snapshot)
        self.parallel.show(snapshot, dimensions)
        self.importance.show(snapshot, self.tr("Importances appear after %1 complete trials")
                             .replace("%1", str(MIN_IMPORTANCE_TRIALS)))
        self._fill_table()
        if self.running:
            self._say(self.tr("%1 of %2 trials done").replace("%1", str(self._done_count()))
                      .replace("%2", str(self._options.trials if self._options else 0)))
        self.study_shown.emit()

    def _fill_table(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        selected = self.selected_trial()
        names = [o.name for o in snapshot.objectives]
        params = sorted({k for t in snapshot.trials for k in t.params})
        header = [self.tr("Trial"), self.tr("State"), *names, *params, self.tr("Seconds"), self.tr("Run folder")]
        trials = [t for t in snapshot.trials if not self.front_only.isChecked() or t.number in snapshot.front]
        with QSignalBlocker(self.table):
            self.table.clear()
            self.table.setColumnCount(len(header))
            self.table.setHorizontalHeaderLabels(header)
            self.table.setRowCount(len(trials))
            for row, trial in enumerate(trials):
                state = trial.state.lower() + (" ★" if trial.number in snapshot.front else "")
                values = [_value_text(v) for v in trial.values] if trial.values else [""] * len(names)
                cells = [str(trial.number), state, *values,
                         *(_value_text(trial.params[p]) if p in trial.params else "" for p in params),
                         f"{trial.duration_s:.1f}" if trial.duration_s is not None else "",
                         Path(trial.run_dir).name if trial.run_dir else ""]
                for col, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setData(Qt.ItemDataRole.UserRole, trial.number)
                    if trial.message:
                        item.setToolTip(trial.message)
                    self.table.setItem(row, col, item)
            self.table.resizeColumnsToContents()
        if selected is not None:
            self.select_trial(selected)

    def selected_trial(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    @Slot(int)
    def select_trial(self, number: int) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == number:
                self.table.selectRow(row)
                return

    def _selection_changed(self) -> None:
        number = self.selected_trial()
        trial = self.snapshot.trial(number) if self.snapshot is not None and number is not None else None
        self.scatter.select(number)
        self.apply_button.setEnabled(trial is not None and bool(trial.params))
        self.open_button.setEnabled(trial is not None and bool(trial.run_dir) and Path(trial.run_dir).is_dir())
        self.selection.setText(trial_values_text(trial) if trial is not None else "")

    def apply_selected(self) -> bool:
        """Apply the selected trial's values to the project: one undo step."""
        number = self.selected_trial()
        trial = self.snapshot.trial(number) if self.snapshot is not None and number is not None else None
        if trial is None:
            return False
        applied = self.session.push(ApplyTrialCommand(self.session.project, trial.number, trial.params))
        if applied:
            self._say(self.tr("Trial %1 applied to the project (Undo takes it back).").replace("%1", str(number)))
        return applied

    def open_selected(self) -> None:
        number = self.selected_trial()
        trial = self.snapshot.trial(number) if self.snapshot is not None and number is not None else None
        if trial is not None and trial.run_dir:
            self.open_run_requested.emit(Path(trial.run_dir))

    def shutdown(self) -> None:
        """Stop a running search and wait for its threads (closing the view, quitting the app)."""
        if self.running:
            self.stop()
            self.wait()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)


def open_search_window(window: Any) -> SearchWindow | None:
    """Run › Search… in the main window: one Search view per open project."""
    session = getattr(window, "session", None)
    if session is None:
        return None
    view = getattr(window, "_search_window", None)
    if view is None or view.session is not session:
        if view is not None and not view.running:
            view.close()
        view = SearchWindow(session, window)

        def open_run(path: Path) -> None:
            window.training.show_run_results(path)
            window.results_dock.show()
            window.results_dock.raise_()

        view.open_run_requested.connect(open_run)
        # Quitting must not destroy a running worker thread: the search stops after its current
        # step, and the thread is waited for.
        QApplication.instance().aboutToQuit.connect(view.shutdown)
        window._search_window = view
    view.show()
    view.raise_()
    return view
