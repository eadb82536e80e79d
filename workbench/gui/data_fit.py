"""The drawing follows its data: when the project's dataset changes, a bar over the canvas offers
to fit the network to it (the Input's kind and shape, the head's width, the Output's loss) as one
undoable edit; "Keep as drawn" leaves the drawing alone. A run that fitted its copy of the network
to the data (Run settings › Fit the network to the data) is followed the same way, at once.

What changes comes from the core (`workbench.fit_to_data`, the fit a run makes); the data is
loaded by a worker in a QThread, as the Data preview does, so that a large folder does not freeze
the window.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.commands import SetParamsCommand
from workbench.gui.preload import live_threads, worker_thread
from workbench.gui.session import EditorSession
from workbench.project import SettingsChanged

log = logging.getLogger(__name__)

FIT_THREAD = "data_fit"
# The readers load_dataset imports lazily, imported on the GUI thread before the worker starts
# (importing torch for the first time inside a QThread deadlocks against PySide6's import hook).
_PRELOAD = ("torch", "workbench.data", "workbench.data.arrays", "workbench.data.idx", "workbench.data.images")


def live_fit_threads() -> list[QThread]:
    """Data loads for the fit offer that have not ended (tests check none is left behind)."""
    return live_threads(FIT_THREAD)


class _Loader(QObject):
    """Loads a dataset in the thread it is moved to; `loaded` (a DataBundle) or `failed`, then `ended`."""

    loaded = Signal(object)
    failed = Signal(str)
    ended = Signal()

    def __init__(self, spec: DatasetSpec, base_dir: Path | None) -> None:
        super().__init__()
        self.spec, self.base_dir = spec, base_dir

    @Slot()
    def run(self) -> None:
        from workbench.data import load_dataset

        try:
            self.loaded.emit(load_dataset(self.spec, base_dir=self.base_dir))
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: keep the traceback in the log, keep the app running
            log.exception("loading %s for the fit offer failed", self.spec)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.ended.emit()


class DataFitBar(QFrame):
    """A strip at the top of the canvas: what the data asks of the drawing, and two buttons."""

    fit_clicked = Signal()
    keep_clicked = Signal()

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self.setObjectName("data_fit_bar")
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.fit_button = QPushButton(self)
        self.keep_button = QPushButton(self)
        self.fit_button.setDefault(True)
        self.fit_button.clicked.connect(self.fit_clicked)
        self.keep_button.clicked.connect(self.keep_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.fit_button)
        layout.addWidget(self.keep_button)
        self._view = view
        self._changes: list[str] = []
        view.installEventFilter(self)
        self.retranslate()
        self.hide()

    def offer(self, dataset: str, changes: list[str]) -> None:
        self._dataset, self._changes = dataset, list(changes)
        self._fill()
        c = theme.colors()
        self.setStyleSheet(f"#data_fit_bar {{ background: {c.warning.name()}; border-radius: 4px; }}"
                           "#data_fit_bar QLabel { color: #1a202c; }")
        self._place()
        self.show()
        self.raise_()

    def _fill(self) -> None:
        if not self._changes:
            return
        self.text.setText(self.tr("The network does not fit dataset '%1' yet: %2.")
                          .replace("%1", self._dataset).replace("%2", "; ".join(self._changes)))

    def retranslate(self) -> None:
        self.fit_button.setText(self.tr("Fit the drawing"))
        self.keep_button.setText(self.tr("Keep as drawn"))
        self.fit_button.setToolTip(self.tr("Change the drawing as listed, in one step that Undo takes back"))
        self._fill()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self._view and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        width = max(320, min(self._view.width() - 40, 900))
        self.setFixedWidth(width)
        self.adjustSize()
        self.move(max(0, (self._view.width() - width) // 2), 40)


class DataFollower(QObject):
    """Offers the fit when the session's dataset changes (a new edit, not an undo), and applies
    a run's fit to the drawing."""

    offered = Signal(list)  # the changes in words, once the bar shows them
    checked = Signal()  # a check of the data ended (with or without an offer)

    def __init__(self, view: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bar = DataFitBar(view)
        self.bar.fit_clicked.connect(self.fit)
        self.bar.keep_clicked.connect(self.keep)
        self.session: EditorSession | None = None
        self._bundle: DataBundle | None = None
        self._loading: tuple[QThread, _Loader] | None = None
        self._again = False  # the dataset changed again while loading

    def set_session(self, session: EditorSession | None) -> None:
        if self.session is not None:
            self.session.settings_changed.disconnect(self._settings_changed)
        self.session = session
        self._bundle = None
        self.bar.hide()
        if session is not None:
            session.settings_changed.connect(self._settings_changed)

    @Slot(object)
    def _settings_changed(self, event: SettingsChanged) -> None:
        if self.session is None or not any(p.startswith("dataset") for p in event.paths):
            return
        # The undo stack's index moves after the command has run: look once it has.
        QTimer.singleShot(0, self._dataset_changed)

    def _dataset_changed(self) -> None:
        if self.session is None:
            return
        stack = self.session.undo_stack
        if stack.index() < stack.count():
            self.bar.hide()  # an undo: the user is going back, not choosing new data
            return
        self.check_data()

    def check_data(self) -> None:
        """Load the project's dataset (off the GUI thread) and offer the fit if the drawing differs."""
        if self.session is None:
            return
        if self._loading is not None:
            self._again = True
            return
        from workbench.gui.preload import before_worker_starts

        before_worker_starts(*_PRELOAD)
        project = self.session.project
        loader = _Loader(project.dataset, project.base_dir)
        thread = worker_thread(loader, loader.run, FIT_THREAD, quit_on=loader.ended)
        loader.loaded.connect(self._loaded)
        loader.failed.connect(self._failed)
        thread.finished.connect(self._thread_finished)
        self._loading = (thread, loader)
        self._again = False
        thread.start()

    @Slot(object)
    def _loaded(self, bundle: DataBundle) -> None:
        self._bundle = bundle

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._bundle = None
        log.info("no fit offer: %s", message)  # the Problems panel and a run say what is wrong with the data

    @Slot()
    def _thread_finished(self) -> None:
        if self._loading is None:
            return
        thread, loader = self._loading
        thread.wait()
        self._loading = None
        loader.deleteLater()
        thread.deleteLater()
        if self._again:
            self.check_data()
            return
        self._offer()
        self.checked.emit()

    def _offer(self) -> None:
        from workbench.fit_to_data import fit_edits

        if self.session is None or self._bundle is None:
            self.bar.hide()
            return
        edits, changes = fit_edits(self.session.graph, self._bundle)
        if not edits:
            self.bar.hide()
            return
        spec = self.session.project.dataset
        self.bar.offer(spec.path or spec.source, changes)
        self.offered.emit(changes)

    def fit(self) -> bool:
        """Fit the drawing to the data just checked, as one undo step; True when it changed."""
        from workbench.fit_to_data import fit_edits

        self.bar.hide()
        if self.session is None or self._bundle is None:
            return False
        edits, _changes = fit_edits(self.session.graph, self._bundle)  # the drawing as it is now
        if not edits:
            return False
        text = self.tr("Fit the network to the data")
        return self.session.push(SetParamsCommand(self.session.graph, edits, text))

    def keep(self) -> None:
        """Leave the drawing as it is."""
        self.bar.hide()

    def follow_run(self, edits: dict[str, dict[str, Any]]) -> bool:
        """A run fitted its copy of the network to the data: the drawing shows the same, as one
        undo step (nodes that are gone are skipped)."""
        if self.session is None:
            return False
        graph = self.session.graph
        edits = {nid: params for nid, params in edits.items() if graph.has_node(nid)}
        if not edits:
            return False
        self.bar.hide()
        text = self.tr("Fit the network to the data (as the run did)")
        return self.session.push(SetParamsCommand(graph, edits, text))

    def live_load(self) -> bool:
        """Whether the data is being loaded for an offer now."""
        return self._loading is not None

    def shutdown(self) -> None:
        """Let a running load end (a QThread destroyed while it runs aborts the process)."""
        if self._loading is not None:
            thread, _loader = self._loading
            thread.wait(30_000)
